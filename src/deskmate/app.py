"""FastAPI app factory: builds the engine, migrates, wires the event listeners (`deskmate.plugins`), and mounts
every domain's router."""

from __future__ import annotations

import importlib
import logging
import pkgutil

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

import deskmate
from deskmate.config import Settings, get_settings
from deskmate.conversations.events import bind_events
from deskmate.db import make_engine, make_sessionmaker, migrate
from deskmate.errors import Conflict, DeskmateError, Forbidden, InvalidInput, NotFound
from deskmate.plugins import default_events

log = logging.getLogger("deskmate")

STATUS_FOR_ERROR = {NotFound: 404, Conflict: 409, InvalidInput: 422, Forbidden: 403}

# Routers mount in this order (pages last so API paths win); other domains follow alphabetically.
ROUTER_ORDER = ["accounts", "customers", "conversations", "knowledge"]


def domain_modules(suffix: str):
    """Yield each domain's `<domain>.<suffix>` module, so domains plug in without editing this file."""
    names = [m.name for m in pkgutil.iter_modules(deskmate.__path__) if m.ispkg]
    ordered = [n for n in ROUTER_ORDER if n in names] + sorted(n for n in names if n not in ROUTER_ORDER and n != "web")
    if "web" in names:
        ordered.append("web")
    for name in ordered:
        try:
            yield importlib.import_module(f"deskmate.{name}.{suffix}")
        except ModuleNotFoundError as exc:
            if exc.name != f"deskmate.{name}.{suffix}":
                raise


def create_app(settings: Settings | None = None, *, run_migrations: bool = True) -> FastAPI:
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    if run_migrations:
        migrate(engine)
    app = FastAPI(
        title="Deskmate",
        version=deskmate.__version__,
        description="Self-hosted AI copilot and intelligence engine for customer-support teams.",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    # Who hears about arrivals and closes: registered in deskmate.plugins, carried by every session.
    app.state.events = default_events(settings)
    bind_events(app.state.sessionmaker, app.state.events)

    @app.exception_handler(DeskmateError)
    async def _domain_error(_request: Request, exc: DeskmateError):
        return JSONResponse({"detail": str(exc)}, status_code=STATUS_FOR_ERROR.get(type(exc), 400))

    @app.get("/health", tags=["health"])
    def health():
        """Liveness: answers without a token."""
        return {"status": "ok", "version": deskmate.__version__}

    for module in domain_modules("api"):
        router = getattr(module, "router", None)
        if router is not None:
            app.include_router(router)
        setup = getattr(module, "setup_app", None)
        if setup is not None:  # a domain's startup work (static files, pages, background tasks)
            setup(app)
    return app


def build_from_env() -> FastAPI:
    """Entry point for uvicorn workers: settings from the environment, schema already migrated by `serve`."""
    return create_app(get_settings(), run_migrations=False)
