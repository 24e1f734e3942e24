"""One small demo workspace (the Loomhouse generator), prepared for assist once per test session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from deskmate.config import Settings
from tests.conftest import shared_data_dir

DEMO_CONVERSATIONS = 160
DEMO_SEED = 11


@dataclass
class Demo:
    settings: Settings
    engine: object
    sessionmaker: object
    tenant_id: int
    tenant: str
    tokens: dict  # role -> a token of that role in the demo tenant; "other" -> an admin of another tenant
    other_tenant_id: int
    root: Path

    def session(self):
        from deskmate.db import session_scope

        return session_scope(self.sessionmaker)


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Demo:
    from deskmate.accounts.service import create_user, get_or_create_tenant, issue_token
    from deskmate.assist.pipeline import prepare_workspace
    from deskmate.db import make_engine, make_sessionmaker, session_scope
    from deskmate.demo.build import build_demo

    root = tmp_path_factory.mktemp("assist-demo")
    settings = Settings(data_dir=root / "data", db_url=f"sqlite:///{root / 'deskmate.db'}", data=shared_data_dir())
    engine = make_engine(settings.database_url)
    build = build_demo(settings, seed=DEMO_SEED, conversations=DEMO_CONVERSATIONS, tenant="loom", holdback=0,
                       engine=engine)
    factory = make_sessionmaker(engine)
    prepare_workspace(settings, factory, build.tenant_id, progress=False)
    tokens = {}
    for user in build.users:
        tokens.setdefault(user["role"], user["token"])
    with session_scope(factory) as s:
        other = get_or_create_tenant(s, slug="other", name="Other Co")
        admin = create_user(s, tenant_id=other.id, name="Other Admin", role="admin")
        tokens["other"] = issue_token(s, user_id=admin.id)
        other_id = other.id
    yield Demo(settings, engine, factory, build.tenant_id, "loom", tokens, other_id, root)
    engine.dispose()


@pytest.fixture(scope="session")
def demo_client(demo):
    from fastapi.testclient import TestClient

    from deskmate.app import create_app

    with TestClient(create_app(demo.settings)) as client:
        yield client


def open_conversation(client, token: str, *, customer_external_id: str | None = None, reason: str | None = None,
                      messages: list[dict] | None = None) -> dict:
    """A new live conversation through the API (the way a desk or a webhook starts one)."""
    from tests.conftest import auth

    body = {"customer_external_id": customer_external_id, "reason": reason, "messages": messages or []}
    r = client.post("/conversations", json={k: v for k, v in body.items() if v is not None}, headers=auth(token))
    assert r.status_code == 201, r.text
    return r.json()


def a_customer(demo, *, with_orders: bool = True):
    """A demo customer (with at least one order when asked), as (external_id, name, email)."""
    from sqlalchemy import select

    from deskmate.customers.models import Customer, CustomerRecord

    with demo.session() as s:
        stmt = select(Customer).where(Customer.tenant_id == demo.tenant_id).order_by(Customer.id)
        for c in s.scalars(stmt):
            if not with_orders or s.scalar(select(CustomerRecord.id).where(CustomerRecord.customer_id == c.id,
                                                                           CustomerRecord.kind == "order")):
                return c.external_id, c.name, c.email
    raise AssertionError("the demo has no customer with an order")
