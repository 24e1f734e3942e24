"""Outcome-aware ranking: online updates on close, versions, promotion gates and rollback."""

from dataclasses import dataclass

import pytest

from deskmate.learning import store as ranker_store
from deskmate.learning import versions
from deskmate.learning.ranking import Ranker, load_ranker
from deskmate.learning.retrain import build_stats
from deskmate.learning.stats import Evidence, SuggestionStats
from tests.conftest import auth
from tests.learning.factory import ANGRY_REFUND, HAPPY_REFUND, store_conversation


@dataclass
class Hit:  # the shape of assist's knowledge hits, as far as the ranker cares
    article_id: int
    score: float


def _history(store, settings, workspace, n: int = 4):
    """Agents used article 11 in conversations that resolved happily, article 12 in ones that went badly."""
    from deskmate.accounts.models import Tenant
    from deskmate.assist.models import FeedbackEvent
    from deskmate.plugins import default_events

    events = default_events(settings)
    for i in range(2 * n):
        good = i % 2 == 0
        with store.session() as s:
            tenant = s.get(Tenant, workspace.tenant_id)
            conv = store_conversation(s, tenant=tenant, script=HAPPY_REFUND if good else ANGRY_REFUND, reason="refund",
                                      agent_id=workspace.user_ids["agent"], close=False)
            article = 11 if good else 12
            for event in ("shown", "inserted"):
                s.add(FeedbackEvent(tenant_id=tenant.id, conversation_id=conv.id, suggestion_id=f"kb:{article}:{conv.id}:1",
                                    suggestion_type="kb", event=event, user_id=workspace.user_ids["agent"]))
            s.add(FeedbackEvent(tenant_id=tenant.id, conversation_id=conv.id, suggestion_id=f"kb:{23 - article}:{conv.id}:1",
                                suggestion_type="kb", event="dismissed", user_id=workspace.user_ids["agent"]))
            from deskmate.conversations.models import ConversationUpdate
            from deskmate.conversations.service import update_conversation

            update_conversation(s, conversation=conv, data=ConversationUpdate(
                status="closed", outcome="resolved" if good else "escalated"), events=events)


HITS = [Hit(12, 0.90), Hit(11, 0.85), Hit(30, 0.80)]
CONTEXT = {"intent_probs": {"refund": 0.9, "other": 0.1}}


def _order(ranker) -> list[int]:
    return [h.article_id for h in ranker.rerank("kb", HITS, CONTEXT)]


def test_closing_conversations_updates_live_ranking(store, settings, workspace):
    ranker = load_ranker(settings, "acme")
    assert _order(ranker) == [12, 11, 30]  # no evidence: assist's order stands
    _history(store, settings, workspace)
    ranker = load_ranker(settings, "acme")  # same cached object, told by the close hook to read the new rows
    assert _order(ranker) == [11, 30, 12]  # 12 led to escalations: below an article with no record at all
    # Click-only ranking cannot tell them apart (both were accepted as often): base order.
    with store.session() as s:
        stats, _ = build_stats(s, tenant_id=workspace.tenant_id)
    assert _order(Ranker(stats, {"objective": "clicks"})) == [12, 11, 30]


def test_stats_shrink_toward_the_reason_average():
    stats = SuggestionStats()
    stats.add(Evidence("kb", "refund", "1", accepted=True, reward=1.0))
    one_lucky = stats.lift("kb", "1", {"refund": 1.0}, "outcome", prior=4.0)
    for _ in range(20):
        stats.add(Evidence("kb", "refund", "1", accepted=True, reward=1.0))
        stats.add(Evidence("kb", "refund", "2", accepted=False, reward=0.0, dismissed=True))
    many = stats.lift("kb", "1", {"refund": 1.0}, "outcome", prior=4.0)
    assert 0 < one_lucky < many
    assert stats.lift("kb", "2", {"refund": 1.0}, "outcome", prior=4.0) < 0
    assert stats.lift("kb", "unseen", {"refund": 1.0}, "outcome", prior=4.0) == 0.0
    again = SuggestionStats.from_json(stats.to_json())
    assert again.lift("kb", "1", {"refund": 1.0}, "outcome", 4.0) == pytest.approx(many)


def _save(s, settings, tenant, params, scores, baseline):
    stats, watermark = build_stats(s, tenant_id=tenant.id)
    snapshot = ranker_store.Snapshot(ranker_store.new_version_name(), params, stats, watermark, {})
    ok, why = versions.decide(scores, baseline)
    return versions.record(s, settings=settings, tenant=tenant, snapshot=snapshot, scores=scores, baseline=baseline,
                           promote_it=ok, decision=why)


def test_worse_version_is_not_promoted_and_rollback_restores_suggestions(client, store, settings, workspace):
    from deskmate.accounts.models import Tenant

    _history(store, settings, workspace)
    figures = {"next_action_hit@1": 0.9, "reply_recall@3": 0.6, "knowledge_hit@3": 0.8}
    with store.session() as s:
        tenant = s.get(Tenant, workspace.tenant_id)
        first = _save(s, settings, tenant, {"weights": {"kb": 0.0}}, figures, {})
    before = _order(load_ranker(settings, "acme"))
    assert before == [12, 11, 30] and first.status == "current"

    with store.session() as s:
        tenant = s.get(Tenant, workspace.tenant_id)
        worse = _save(s, settings, tenant, {"weights": {"kb": -1.0}}, {**figures, "knowledge_hit@3": 0.7}, figures)
    assert worse.status == "rejected" and "knowledge_hit@3" in worse.decision
    assert ranker_store.current_version(settings, "acme") == first.version
    assert _order(load_ranker(settings, "acme")) == before

    with store.session() as s:
        tenant = s.get(Tenant, workspace.tenant_id)
        better = _save(s, settings, tenant, {"weights": {"kb": 1.0}}, {**figures, "knowledge_hit@3": 0.85}, figures)
    assert better.status == "current"
    assert _order(load_ranker(settings, "acme")) == [11, 30, 12]

    r = client.post("/learning/versions/rollback", headers=auth(workspace.tokens["supervisor"]), json={})
    assert r.status_code == 200 and r.json()["version"] == first.version, r.text
    assert _order(load_ranker(settings, "acme")) == before
    listed = client.get("/learning/versions", headers=auth(workspace.tokens["supervisor"])).json()
    assert listed["current"] == first.version
    assert {v["version"]: v["status"] for v in listed["items"]} == {
        first.version: "current", worse.version: "rejected", better.version: "retired"}
    # Any version can be made current again, by name; a rejected one too (a supervisor's call).
    r = client.post("/learning/versions/rollback", headers=auth(workspace.tokens["supervisor"]), json={"version": better.version})
    assert r.status_code == 200 and _order(load_ranker(settings, "acme")) == [11, 30, 12]
    assert client.post("/learning/versions/rollback", headers=auth(workspace.tokens["supervisor"]),
                       json={"version": "nope"}).status_code == 404
    assert client.post("/learning/versions/rollback", headers=auth(workspace.tokens["agent"]), json={}).status_code == 403


def test_decide_gates_each_figure():
    base = {"next_action_hit@1": 0.9, "reply_recall@3": 0.6, "knowledge_hit@3": None}
    assert versions.decide({**base, "reply_recall@3": 0.598}, base)[0]  # within replay noise
    ok, why = versions.decide({**base, "next_action_hit@1": 0.85}, base)
    assert not ok and "next_action_hit@1" in why


NEXT = [("update-order", 0.7), ("record-reason", 0.3)]  # assist's next-action candidates after validate-purchase
AT_STEP = {"intent_probs": {"cancel_order": 1.0}, "actions": ["pull-up-account", "validate-purchase"]}


def _next_actions(ranker) -> list[str]:
    return [a for a, _ in ranker.rerank("nba", NEXT, AT_STEP)]


def test_next_actions_follow_what_went_well_not_what_was_popular():
    """Most agents skip recording the reason (the popular move) and those conversations mostly fail: click-only
    ranking learns the habit, outcome-aware ranking the step that resolved. One observation cannot overturn
    assist's probabilities; a history can."""
    def observe(stats, action, resolved, times):
        for _ in range(times):
            stats.add(Evidence("nba", "cancel_order", f"validate-purchase>{action}", accepted=True,
                               reward=1.0 if resolved else 0.0))

    stats = SuggestionStats()
    observe(stats, "record-reason", True, 1)
    assert _next_actions(Ranker(stats, {"objective": "outcome"})) == ["update-order", "record-reason"]
    observe(stats, "update-order", True, 6)
    observe(stats, "update-order", False, 24)
    observe(stats, "record-reason", True, 15)
    observe(stats, "record-reason", False, 4)
    assert _next_actions(Ranker(stats, {"objective": "clicks"})) == ["update-order", "record-reason"]
    assert _next_actions(Ranker(stats, {"objective": "outcome"})) == ["record-reason", "update-order"]
    # Evidence for another reason does not leak into this one, and a weight of 0 turns learning off.
    other = SuggestionStats()
    for _ in range(50):
        other.add(Evidence("nba", "return_exchange", "validate-purchase>record-reason", accepted=True, reward=1.0))
    assert _next_actions(Ranker(other, {"objective": "outcome"})) == ["update-order", "record-reason"]
    assert _next_actions(Ranker(stats, {"objective": "outcome", "weights": {"nba": 0.0}})) == ["update-order", "record-reason"]
