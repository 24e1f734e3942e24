"""Reasons from topics on a real store: assignment keeps given reasons, then rename / merge / split by service,
CLI (exit 2 on bad input) and API (supervisor only, 4xx on bad input), and a workspace with no reasons at all."""

from __future__ import annotations

from collections import Counter

import pytest
from sklearn.metrics import homogeneity_score
from sqlalchemy import select
from typer.testing import CliRunner

from deskmate.cli import app
from deskmate.conversations.models import Conversation
from deskmate.insights.models import InsightRecord
from deskmate.reasons.models import Reason
from deskmate.reasons.service import assign_reasons_from_topics, prepare_reasons
from tests.conftest import auth


def _reasons(ws, tenant_id=None):
    with ws.session() as s:
        return {c.id: (c.reason, c.reason_source) for c in s.scalars(
            select(Conversation).where(Conversation.tenant_id == (tenant_id or ws.tenant_id)))}


@pytest.fixture(scope="module")
def assigned(workspace):
    before = _reasons(workspace)
    summary = assign_reasons_from_topics(workspace.sessionmaker, workspace.tenant_id)
    return before, summary


def test_conversations_without_a_reason_take_their_topics_given_ones_untouched(workspace, assigned):
    before, summary = assigned
    after = _reasons(workspace)
    assert summary["assigned"] >= len(workspace.stripped) * 0.95 and summary["without_reason"] <= len(workspace.stripped) * 0.05
    for cid, (reason, source) in before.items():
        if reason is not None:
            assert after[cid] == (reason, None)  # a given reason is never touched
    got = [after[cid] for cid in workspace.stripped if after[cid][0] is not None]
    assert {source for _, source in got} == {"topic"}
    right = sum(after[cid][0] == workspace.truth[cid] for cid in workspace.stripped)
    assert right >= 0.9 * len(workspace.stripped)  # topics whose labelled members agree pass their reason on
    with workspace.session() as s:
        records = dict(s.execute(select(InsightRecord.conversation_id, InsightRecord.reason).where(
            InsightRecord.tenant_id == workspace.tenant_id)).all())
    assert all(records[cid] == after[cid][0] for cid in workspace.stripped)
    again = assign_reasons_from_topics(workspace.sessionmaker, workspace.tenant_id)
    assert again["changed"] == 0 and _reasons(workspace) == after  # idempotent


@pytest.fixture
def run(workspace, monkeypatch):
    monkeypatch.setenv("DESKMATE_DB_URL", workspace.settings.database_url)
    monkeypatch.setenv("DESKMATE_DATA_DIR", str(workspace.settings.data_dir))
    from deskmate.config import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, ["reasons", *args, "--tenant", "acme"])
    get_settings.cache_clear()


def test_cli_lists_renames_merges_and_refuses_bad_input(workspace, assigned, run):
    listed = run("list")
    assert listed.exit_code == 0 and "password_reset" in listed.output and "given" in listed.output
    assert run("rename", "password_reset", "Reset password").exit_code == 0
    ok = run("merge", "promo_code", "refund_status")
    assert ok.exit_code == 0, ok.output
    after = _reasons(workspace)
    assert not any(r == "promo_code" for r, _ in after.values())
    assert sum(r == "refund_status" for r, _ in after.values()) == sum(
        workspace.truth[c] in ("promo_code", "refund_status") for c in after) > 0
    for args, message in [(("rename", "late_delivery", "reset password"), "merge the two instead"),
                          (("rename", "no_such_reason", "X"), "no reason 'no_such_reason'"),
                          (("rename", "late_delivery", "   "), "needs a name"),
                          (("merge", "late_delivery", "late_delivery"), "into itself"),
                          (("merge", "promo_code", "late_delivery"), "was merged already"),
                          (("split", "late_delivery", "--parts", "1"), "")]:
        result = run(*args)
        assert result.exit_code == 2 and message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    with workspace.session() as s:
        assert s.scalar(select(Reason.name).where(Reason.tenant_id == workspace.tenant_id, Reason.key == "password_reset")) == "Reset password"


def test_merged_reason_keeps_absorbing_later_conversations(workspace, assigned, run):
    from tests.insights.factory import START, add_conversation

    with workspace.session() as s:
        late = add_conversation(s, workspace.tenant_id, external_id="late-promo", started=START, reason="promo_code",
                                opening="the discount code says invalid at checkout", outcome="resolved")
        late_id = late.id
    assign_reasons_from_topics(workspace.sessionmaker, workspace.tenant_id)
    assert _reasons(workspace)[late_id] == ("refund_status", None)  # still given, now the merged reason


def test_api_is_for_supervisors_and_answers_bad_input_with_4xx(workspace, assigned):
    from fastapi.testclient import TestClient

    from deskmate.app import create_app

    with TestClient(create_app(workspace.settings)) as api:
        sup, agent, other = (auth(workspace.tokens[k]) for k in ("supervisor", "agent", "other"))
        assert api.get("/reasons", headers=agent).status_code == 403
        assert api.patch("/reasons/late_delivery", json={"name": "Late parcel"}, headers=agent).status_code == 403
        assert api.patch("/reasons/late_delivery", json={"name": "Late parcel"}, headers=other).status_code == 404
        items = api.get("/reasons", headers=sup).json()["items"]
        late = next(i for i in items if i["key"] == "late_delivery")
        renamed = api.patch(f"/reasons/{late['id']}", json={"name": "Late parcel"}, headers=sup)
        assert renamed.status_code == 200 and renamed.json()["name"] == "Late parcel" and renamed.json()["key"] == "late_delivery"
        assert api.patch("/reasons/late_delivery", json={"name": ""}, headers=sup).status_code == 422
        assert api.post("/reasons/late_delivery/merge", json={"into": "nope"}, headers=sup).status_code == 404
        assert api.post("/reasons/late_delivery/split", json={"parts": 1}, headers=sup).status_code == 422
        assert api.post("/reasons/late_delivery/split", json={"parts": 50}, headers=sup).status_code == 422
        # Split: the reason's conversations are re-clustered; each part is a reason of its own.
        carriers = [c for c, (r, _) in _reasons(workspace).items() if r == "late_delivery"]
        split = api.post("/reasons/late_delivery/split", json={"parts": 2}, headers=sup)
        assert split.status_code == 200, split.text
        parts = split.json()["parts"]
        assert len(parts) == 2 and all(p["name"].startswith("Late parcel: ") for p in parts)
        now = _reasons(workspace)
        assert Counter(now[c][0] for c in carriers).keys() == {p["key"] for p in parts}
        assert api.post("/reasons/late_delivery/split", json={}, headers=sup).status_code == 422  # split already
        listed = api.get("/reasons", params={"all": True}, headers=sup).json()["items"]
        assert next(i for i in listed if i["key"] == "late_delivery")["status"] == "split"
        merged = api.post(f"/reasons/{parts[1]['key']}/merge", json={"into": parts[0]["key"]}, headers=sup)
        assert merged.status_code == 200 and merged.json()["key"] == parts[0]["key"]
        assert all(_reasons(workspace)[c][0] == parts[0]["key"] for c in carriers)
        assert api.post("/reasons/assign", headers=sup).json()["changed"] == 0


def test_a_workspace_without_reasons_gets_them_from_topics(workspace):
    """The other tenant: the same kind of history imported with no reason at all, prepared by the real step."""
    from sqlalchemy import update

    from tests.insights.factory import build_history

    tenant = workspace.other_tenant_id
    assert prepare_reasons(workspace.settings, workspace.sessionmaker, tenant) == {"skipped": "no conversation lacks a given reason"}
    with workspace.session() as s:
        build_history(s, tenant, agent_id=None)
        truth = dict(s.execute(select(Conversation.id, Conversation.reason).where(Conversation.tenant_id == tenant)).all())
        s.execute(update(Conversation).where(Conversation.tenant_id == tenant).values(reason=None))
    result = prepare_reasons(workspace.settings, workspace.sessionmaker, tenant)
    assert result["topics"]["topics"] >= 5 and result["reasons"]["without_reason"] == 0
    got = _reasons(workspace, tenant)
    ids = sorted(truth)
    # This history words each reason in four fixed sentences, and topics find each sentence: reasons come out
    # finer than the truth (about four per true reason) but pure, each inside one true reason.
    assert homogeneity_score([truth[i] for i in ids], [got[i][0] for i in ids]) >= 0.95
    with workspace.session() as s:
        reasons = s.scalars(select(Reason).where(Reason.tenant_id == tenant, Reason.status == "active")).all()
    assert reasons and {r.source for r in reasons} == {"topic"}
    assert all(r.name[:1].isupper() and " / " not in r.name for r in reasons)


def test_insights_reasons_page_renames_merges_and_splits(workspace, assigned):
    from fastapi.testclient import TestClient

    from deskmate.accounts.deps import SESSION_COOKIE
    from deskmate.app import create_app

    with TestClient(create_app(workspace.settings), follow_redirects=False) as web:
        web.cookies.set(SESSION_COOKIE, workspace.tokens["agent"])
        assert web.get("/insights/reasons").status_code == 403
        web.cookies.set(SESSION_COOKIE, workspace.tokens["supervisor"])
        page = web.get("/insights/reasons")
        assert page.status_code == 200 and 'data-key="cancel_subscription"' in page.text
        assert "/insights/reasons" in web.get("/insights").text  # the dashboard's topics link to it
        with workspace.session() as s:
            cancel = s.scalar(select(Reason).where(Reason.tenant_id == workspace.tenant_id, Reason.key == "cancel_subscription"))
            cancel_id = cancel.id
        renamed = web.post(f"/insights/reasons/{cancel_id}/rename", data={"name": "Cancel the plan"})
        assert renamed.status_code == 303 and "Cancel the plan" in web.get(renamed.headers["location"]).text
        bad = web.post(f"/insights/reasons/{cancel_id}/rename", data={"name": " "})
        assert bad.status_code == 422 and "needs a name" in bad.text
        bad = web.post(f"/insights/reasons/{cancel_id}/split", data={"parts": "many"})
        assert bad.status_code == 422 and "whole number" in bad.text
        assert web.post(f"/insights/reasons/{cancel_id}/merge", data={"into": "nope"}).status_code == 422
        split = web.post(f"/insights/reasons/{cancel_id}/split", data={"parts": ""})
        assert split.status_code == 303, split.text
        assert 'data-key="cancel_subscription"' not in web.get("/insights/reasons").text  # split: its parts are listed
