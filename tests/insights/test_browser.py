"""The insights dashboard and search in Debian's Chromium, and the HTML report opened with the network off."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("DESKMATE_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(prepared):
    if "postgresql" in prepared.settings.database_url:
        pytest.skip("one browser run is enough: pages read the same service code on both databases")
    import uvicorn

    from deskmate.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(prepared.settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def signed_in(browser, url: str, token: str):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_cookies([{"name": "deskmate_session", "value": token, "url": url}])
    return context


def test_dashboard_shows_charts_alerts_and_topics(browser, server, prepared):
    context = signed_in(browser, server, prepared.tokens["supervisor"])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server}/insights?period=all")
    page.wait_for_function("window.chartsRendered === 3", timeout=20000)
    assert page.locator("#chart-over-time .main-svg").count() >= 1
    assert page.locator("#chart-outcome .main-svg").count() >= 1
    assert int(page.get_by_test_id("stat-conversations").inner_text()) >= len(prepared.ids["steady"])
    assert page.get_by_test_id("alert-row").count() >= 1
    assert "Alder" in page.locator("#emerging").inner_text()
    page.locator("[data-testid=topics] a").first.click()
    page.wait_for_selector("#chart-topic .main-svg")
    assert page.locator("h1").inner_text().startswith("#")
    assert errors == []
    context.close()


def test_search_finds_by_meaning_and_opens_the_conversation(browser, server, prepared):
    context = signed_in(browser, server, prepared.tokens["agent"])
    page = context.new_page()
    page.goto(f"{server}/insights/conversations")
    page.fill("#q", "customers who could not reset their password after changing phone")
    page.select_option("#mode", "semantic")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("[data-testid=hit]")
    first = page.locator("[data-testid=hit]").first
    assert any(w in first.inner_text().lower() for w in ("password", "reset", "phone"))
    first.locator("a").click()
    page.wait_for_selector("[data-testid=conversation-title]")
    assert page.get_by_test_id("conversation-title").inner_text().startswith("Conversation ")
    assert "Insight record" in page.content()
    context.close()


def test_agent_cannot_open_the_dashboard(browser, server, prepared):
    context = signed_in(browser, server, prepared.tokens["agent"])
    page = context.new_page()
    response = page.goto(f"{server}/insights")
    assert response.status == 403
    context.close()


def test_report_opens_offline_with_its_charts(browser, prepared, tmp_path):
    from deskmate.insights.report import write_report

    out = tmp_path / "report.html"
    with prepared.session() as s:
        write_report(s, prepared.tenant_id, out)
    context = browser.new_context(offline=True)
    requests = []
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    page.goto(out.as_uri())
    page.wait_for_function("window.chartsRendered === 3", timeout=20000)
    assert page.locator("#chart-over-time .main-svg").count() >= 1
    assert page.locator("#chart-friction .main-svg").count() >= 1
    assert "What customers say" in page.content() and page.locator("blockquote").count() >= 3
    assert all(u.startswith("file:") or u.startswith("data:") for u in requests), requests
    context.close()
