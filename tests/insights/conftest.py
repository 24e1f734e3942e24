"""One prepared insights workspace per module and database (SQLite, and PostgreSQL when configured).

Building the history, encoding it and fitting topics takes seconds, so tests share it and only
tests that change it build their own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_URL, _postgres_schema_url, shared_data_dir


@dataclass
class Prepared:
    settings: object
    engine: object
    sessionmaker: object
    tenant_id: int
    other_tenant_id: int
    tokens: dict
    ids: dict
    detect: dict

    def session(self):
        from deskmate.db import session_scope

        return session_scope(self.sessionmaker)


def _url(kind: str, tmp_path_factory):
    if kind == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('insights') / 'deskmate.db'}", None
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL variant: set DESKMATE_TEST_POSTGRES_URL to run it")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    return _postgres_schema_url(POSTGRES_URL, schema), (admin, schema)


def build_prepared(kind: str, tmp_path_factory, *, spike: bool = True):
    from deskmate.accounts.service import create_user, get_or_create_tenant, issue_token
    from deskmate.config import Settings
    from deskmate.db import make_engine, make_sessionmaker, migrate, session_scope
    from deskmate.insights import service
    from tests.insights.factory import START, build_history

    url, cleanup = _url(kind, tmp_path_factory)
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"), db_url=url, data=shared_data_dir())
    engine = make_engine(url)
    migrate(engine)
    factory = make_sessionmaker(engine)
    tokens = {}
    with session_scope(factory) as s:
        acme = get_or_create_tenant(s, slug="acme", name="Acme")
        other = get_or_create_tenant(s, slug="other", name="Other")
        for role in ("agent", "supervisor"):
            u = create_user(s, tenant_id=acme.id, name=f"{role.title()} User", role=role)
            tokens[role] = issue_token(s, user_id=u.id)
        tokens["other"] = issue_token(s, user_id=create_user(s, tenant_id=other.id, name="Other", role="supervisor").id)
        ids = build_history(s, acme.id, agent_id=None, spike=spike)
        tenant_id, other_id = acme.id, other.id
    service.refresh(settings, factory, tenant_id)
    service.refit(factory, tenant_id)
    detected = service.detect_and_push(settings, factory, tenant_id, day_from=(START + timedelta(days=20)).date(), push=False)
    return Prepared(settings, engine, factory, tenant_id, other_id, tokens, ids, detected), cleanup


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def prepared(request, tmp_path_factory):
    ws, cleanup = build_prepared(request.param, tmp_path_factory)
    yield ws
    ws.engine.dispose()
    if cleanup:
        admin, schema = cleanup
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module")
def api(prepared):
    from fastapi.testclient import TestClient

    from deskmate.app import create_app

    with TestClient(create_app(prepared.settings)) as client:
        yield client
