"""Building the demo workspace into a real store (SQLite, and PostgreSQL when configured), twice."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from deskmate.accounts.models import User
from deskmate.accounts.service import authenticate
from deskmate.config import Settings
from deskmate.conversations.models import Conversation, Message
from deskmate.db import make_engine, make_sessionmaker, session_scope
from deskmate.demo import load_truth
from deskmate.demo.build import build_demo
from deskmate.errors import NotFound
from deskmate.knowledge.models import Article, Procedure

REFERENCE = "2026-03-01"


def _count(session, model, tenant_id, *where):
    return session.scalar(select(func.count()).select_from(model).where(model.tenant_id == tenant_id, *where))


def test_small_build_end_to_end_and_idempotent(settings):
    with pytest.raises(NotFound):
        load_truth(settings)
    first = build_demo(settings, seed=7, conversations=150, tenant="loomhouse", reference_date=REFERENCE)
    assert first.imported.created == len(first.data.records) and first.imported.rejected == 0
    factory = make_sessionmaker(make_engine(settings.database_url))

    def snapshot():
        with session_scope(factory) as s:
            tid = first.tenant_id
            return {
                "conversations": _count(s, Conversation, tid), "messages": _count(s, Message, tid),
                "published": _count(s, Article, tid, Article.status == "published"),
                "procedures": _count(s, Procedure, tid), "users": _count(s, User, tid),
                "linked": _count(s, Procedure, tid, Procedure.article_id.is_not(None)),
            }

    before = snapshot()
    assert before["conversations"] == len(first.data.records) == 150 - len(first.data.live)
    assert before["messages"] == sum(len(r["entries"]) for r in first.data.records)
    assert before["published"] == len(first.data.articles) >= 40
    assert before["procedures"] == 22 and before["linked"] == 22 - len(first.data.held_back)
    assert before["users"] == 10

    second = build_demo(settings, seed=7, conversations=150, tenant="loomhouse", reference_date=REFERENCE)
    assert (second.imported.created, second.imported.updated) == (0, 0)
    assert second.imported.unchanged == len(first.data.records)
    assert snapshot() == before
    assert [u["token"] for u in second.users] == [u["token"] for u in first.users]

    with session_scope(factory) as s:
        for u in second.users:
            assert authenticate(s, u["token"]).role == u["role"]
        demo_agents = {u["external_id"] for u in second.users if u["role"] == "agent"}
        stored = s.scalars(select(Conversation).where(Conversation.tenant_id == first.tenant_id)).all()
        assert {s.get(User, c.agent_id).external_id for c in stored} <= demo_agents
    tokens = json.loads(second.paths["tokens"].read_text())
    assert {u["role"] for u in tokens["users"]} == {"agent", "supervisor", "admin"}
    truth = load_truth(settings)
    assert truth["tenant"] == "loomhouse" and len(truth["conversations"]) == 150
    assert truth["held_back_articles"] == first.data.truth["held_back_articles"]


def test_rebuild_with_other_options_keeps_only_this_build(settings):
    build_demo(settings, seed=7, conversations=160, holdback=0, reference_date=REFERENCE)
    smaller = build_demo(settings, seed=7, conversations=100, holdback=4, reference_date=REFERENCE)
    assert smaller.removed_conversations == 160 - 8 - len(smaller.data.records)
    factory = make_sessionmaker(make_engine(settings.database_url))
    with session_scope(factory) as s:
        tid = smaller.tenant_id
        ids = set(s.scalars(select(Conversation.external_id).where(Conversation.tenant_id == tid)))
        assert ids == {r["id"] for r in smaller.data.records}
        held = {a.id for a in smaller.data.held_back}
        statuses = dict(s.execute(select(Article.external_id, Article.status).where(Article.tenant_id == tid)).all())
        assert held and all(statuses[h] == "archived" for h in held)  # published by the first build, withdrawn now


@pytest.fixture
def cli(tmp_path, monkeypatch):
    from deskmate.cli import app
    from deskmate.config import get_settings

    monkeypatch.setenv("DESKMATE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DESKMATE_DB_URL", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def test_cli_demo_builds_without_serving_and_prepare_checks_the_tenant(cli, tmp_path):
    result = cli("demo", "--conversations", "80", "--no-serve", "--no-prepare", "--reference-date", REFERENCE,
                 "--tenant", "shop")
    assert result.exit_code == 0, result.output
    assert "admin token" in result.output and "/login" in result.output
    truth = load_truth(Settings(data_dir=tmp_path / "data"))
    assert truth["tenant"] == "shop" and truth["seed"] == 7 and not truth["options"]["consequences"]
    result = cli("demo", "--conversations", "80", "--no-serve", "--no-prepare", "--reference-date", REFERENCE,
                 "--tenant", "shop", "--consequences")
    assert result.exit_code == 0, result.output
    assert load_truth(Settings(data_dir=tmp_path / "data"))["options"]["consequences"]
    result = cli("prepare", "--tenant", "nosuch")
    assert result.exit_code == 2 and "nosuch" in result.output
    result = cli("demo", "--conversations", "10", "--no-serve")
    assert result.exit_code == 2
    result = cli("demo", "--conversations", "80", "--no-serve", "--no-prepare", "--reference-date", "soon")
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
