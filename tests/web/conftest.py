"""A real server on loopback over a small prepared demo workspace, and Debian's Chromium through Playwright."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("DESKMATE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """`deskmate demo`'s workspace (small), prepared for assist, served by uvicorn in a thread."""
    import uvicorn

    from deskmate.app import create_app
    from deskmate.assist import pipeline as assist_pipeline
    from deskmate.config import Settings
    from deskmate.db import make_engine, make_sessionmaker
    from deskmate.demo.build import build_demo
    from deskmate.prepare import PrepareStep, prepare_workspace_all

    data_dir = tmp_path_factory.mktemp("browser")
    settings = Settings(data_dir=data_dir)
    engine = make_engine(settings.database_url)
    build = build_demo(settings, seed=11, conversations=160, engine=engine)
    prepare_workspace_all(settings, make_sessionmaker(engine), build.tenant_id,
                          steps=[PrepareStep("assist", assist_pipeline.prepare_workspace)])
    engine.dispose()
    tokens = json.loads((data_dir / "demo" / "tokens.json").read_text())["users"]
    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="websockets"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "the test server did not start"

    def token(role: str) -> str:
        return next(u["token"] for u in tokens if u["role"] == role)

    yield {"url": f"http://127.0.0.1:{port}", "settings": settings, "app": app, "token": token, "users": tokens}
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def new_page(browser):
    contexts = []

    def make(width: int = 1366, height: int = 768):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        return context.new_page()

    yield make
    for c in contexts:
        c.close()


def sign_in(page, base: str, token: str, next_path: str = "/") -> None:
    page.goto(f"{base}/login?next={next_path}")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
