"""Feedback events are joined to the conversation's outcome when it closes, and the live ranker learns from them."""

from sqlalchemy import select

from deskmate.learning.feedback import reward_for
from deskmate.learning.models import FeedbackOutcome
from tests.conftest import auth
from tests.learning.factory import HAPPY_REFUND, store_conversation


def _feedback(client, token, conversation_id, suggestion_id, event, **extra):
    r = client.post("/assist/feedback", headers=auth(token),
                    json={"conversation_id": conversation_id, "suggestion_id": suggestion_id, "event": event, **extra})
    assert r.status_code == 201, r.text


def test_feedback_joins_outcome_on_close(client, store, workspace):
    from deskmate.accounts.models import Tenant

    with store.session() as s:
        conv = store_conversation(s, tenant=s.get(Tenant, workspace.tenant_id), script=HAPPY_REFUND, reason="refund",
                                  agent_id=workspace.user_ids["agent"], close=False)
        conv_id = conv.id
    agent = workspace.tokens["agent"]
    kb, reply, other, nba = f"kb:7:{conv_id}:1", f"reply:0:{conv_id}:1", f"reply:1:{conv_id}:1", f"nba:verify-identity:{conv_id}:3"
    for sid in (kb, reply, other, nba):
        _feedback(client, agent, conv_id, sid, "shown")
    _feedback(client, agent, conv_id, kb, "inserted")
    _feedback(client, agent, conv_id, reply, "edited", final_text="I'm so sorry about that, let me look right now.")
    _feedback(client, agent, conv_id, other, "dismissed")
    _feedback(client, agent, conv_id, nba, "inserted")
    _feedback(client, agent, conv_id, kb, "rated", rating=1)
    with store.session() as s:  # nothing is joined while the conversation is open
        assert not s.scalars(select(FeedbackOutcome).where(FeedbackOutcome.conversation_id == conv_id)).all()

    r = client.patch(f"/conversations/{conv_id}", headers=auth(agent), json={"status": "closed", "outcome": "resolved"})
    assert r.status_code == 200, r.text
    with store.session() as s:
        rows = {r.suggestion_id: r for r in s.scalars(select(FeedbackOutcome).where(FeedbackOutcome.conversation_id == conv_id))}
        from deskmate.outcomes.models import ConversationScore

        score = s.scalar(select(ConversationScore).where(ConversationScore.conversation_id == conv_id))
    assert score is not None and score.sentiment_shift is not None and score.sentiment_shift > 0
    k, e, d, n = rows[kb], rows[reply], rows[other], rows[nba]
    assert k.shown and k.accepted and k.key == "7" and k.rating == 1 and k.outcome == "resolved" and k.resolved
    assert k.sentiment_shift == score.sentiment_shift and k.resolution_quality == score.resolution_quality
    assert k.reward == reward_for(True, True, score.sentiment_shift) > 0.5  # accepted, resolved, happier customer
    assert e.accepted and e.edited and e.final_text.startswith("I'm so sorry") and e.seconds_to_act is not None
    assert d.dismissed and not d.accepted and d.reward == 0.0
    assert n.key == "pull-up-account>verify-identity" and n.reason == "refund"  # suggested after message 3, the look-up
    # What the agent really did is evidence too, unless an accepted suggestion already counted it.
    observed = [r for r in rows.values() if not r.shown]
    assert {(r.kind, r.key) for r in observed if r.kind == "nba"} == {
        ("nba", "^>pull-up-account"), ("nba", "verify-identity>offer-refund")}  # verify-identity: the accepted nba
    assert all(r.accepted and r.resolved for r in observed)

    # Closing again (reopened, then closed) replaces the rows instead of adding more.
    client.patch(f"/conversations/{conv_id}", headers=auth(agent), json={"status": "open"})
    client.patch(f"/conversations/{conv_id}", headers=auth(agent), json={"status": "closed", "outcome": "unresolved"})
    with store.session() as s:
        again = s.scalars(select(FeedbackOutcome).where(FeedbackOutcome.conversation_id == conv_id)).all()
    assert len(again) == len(rows) and all(r.outcome == "unresolved" and r.reward == 0.0 for r in again)


def test_reward_follows_outcome_and_sentiment():
    assert reward_for(False, True, 0.8) == 0.0
    assert reward_for(True, False, 0.8) == 0.0
    assert reward_for(True, True, None) == 0.5
    assert reward_for(True, True, 0.5) > reward_for(True, True, 0.0) > reward_for(True, True, -0.5) > 0.0
    assert reward_for(True, True, 0.5, rating=-1) == 0.0
