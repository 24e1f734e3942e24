"""Shared fixtures: real SQLite files, and the real PostgreSQL when DESKMATE_TEST_POSTGRES_URL is set.

Every store fixture is parametrised over both databases; on a laptop without the
variable the PostgreSQL variants are skipped with a visible reason.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from deskmate.config import Settings  # noqa: E402
from deskmate.db import make_engine, make_sessionmaker, migrate, session_scope  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get("DESKMATE_TEST_POSTGRES_URL")


def shared_data_dir() -> Path:
    path = Path(os.environ.get("DESKMATE_DATA", PROJECT_ROOT.parent / "shared" / "data"))
    return path if path.is_absolute() else (PROJECT_ROOT / path).resolve()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = shared_data_dir()
    if not path.exists():
        pytest.skip(f"evaluation data not found at {path} (set DESKMATE_DATA)")
    return path


def _postgres_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'deskmate.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL variant: set DESKMATE_TEST_POSTGRES_URL to run it")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_schema_url(POSTGRES_URL, schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path):
    """For tests that only make sense on the laptop default (file-level checks)."""
    return f"sqlite:///{tmp_path / 'deskmate.db'}"


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", db_url=db_url, data=shared_data_dir())


@dataclass
class Store:
    engine: object
    sessionmaker: object
    url: str

    def session(self):
        return session_scope(self.sessionmaker)


@pytest.fixture
def store(settings) -> Store:
    engine = make_engine(settings.database_url)
    migrate(engine)
    yield Store(engine, make_sessionmaker(engine), settings.database_url)
    engine.dispose()


@dataclass
class Workspace:
    tenant_id: int
    other_tenant_id: int
    tokens: dict  # role -> token in the main tenant, plus "other" for the other tenant's admin
    user_ids: dict


@pytest.fixture
def workspace(store) -> Workspace:
    from deskmate.accounts.service import create_user, get_or_create_tenant, issue_token

    tokens, ids = {}, {}
    with store.session() as s:
        acme = get_or_create_tenant(s, slug="acme", name="Acme")
        other = get_or_create_tenant(s, slug="other", name="Other Co")
        for role in ("agent", "supervisor", "admin"):
            u = create_user(s, tenant_id=acme.id, name=f"{role.title()} User", email=f"{role}@acme.test", role=role)
            tokens[role], ids[role] = issue_token(s, user_id=u.id), u.id
        o = create_user(s, tenant_id=other.id, name="Other Admin", role="admin")
        tokens["other"], ids["other"] = issue_token(s, user_id=o.id), o.id
        return Workspace(acme.id, other.id, tokens, ids)


@pytest.fixture
def app(settings, store):
    from deskmate.app import create_app

    return create_app(settings)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
