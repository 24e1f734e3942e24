"""Each stage of live assist on the demo workspace, driven message by message through the engine."""

from datetime import datetime, timedelta, timezone

import pytest

from deskmate.assist.state import Turn

T0 = datetime(2026, 11, 1, 10, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def engine(demo):
    from deskmate.accounts.models import Tenant
    from deskmate.assist.bundle import load_models
    from deskmate.assist.engine import AssistEngine
    from deskmate.assist.service import load_procedures

    with demo.session() as s:
        tenant = s.get(Tenant, demo.tenant_id)
        return AssistEngine(demo.settings, tenant_id=demo.tenant_id, tenant_slug=demo.tenant,
                            tenant_settings=tenant.settings, models=load_models(demo.settings, demo.tenant),
                            procedures=load_procedures(s, demo.tenant_id))


def _past(demo, reason: str):
    """A resolved demo conversation with this reason, as history."""
    from deskmate.assist.history import history_ids, load_conversations

    with demo.session() as s:
        for conv in load_conversations(s, demo.tenant_id, history_ids(s, demo.tenant_id)):
            if conv.reason == reason and conv.outcome == "resolved" and conv.customer.name:
                return conv
    pytest.skip(f"no resolved {reason} conversation in this small demo")


def _start(engine, s, conv, *, reason=None, conversation_id=None):
    return engine.start(s, conversation_id=conversation_id or conv.id, customer_id=conv.customer_id,
                        agent_name=conv.agent_name, agent_id=conv.agent_id, reason=reason, started_at=conv.started_at)


def _turn(seq, role, text="", action=None, at=None):
    return Turn(seq, role, "action" if action else "text", text, action, {}, at or T0 + timedelta(seconds=20 * seq))


def test_a_conversation_replayed_turn_by_turn(demo, engine):
    from deskmate.assist.pipeline import make_turn

    conv = _past(demo, "order_status")
    with demo.session() as s:
        state = _start(engine, s, conv, reason=conv.reason, conversation_id=10**6 + 1)
        updates = [engine.process(s, state, make_turn(t, {})) for t in conv.turns]
    first, last = updates[0], updates[-1]
    assert [u.message_seq for u in updates] == [t.seq for t in conv.turns]
    assert first.context.name == conv.customer.name and first.context.records
    assert first.intent.label == "order_status" and first.intent.source == "reason"
    # The procedure's checklist follows what the agent did.
    actions_done = conv.actions
    assert [c.action for c in last.next_action.checklist] == engine.procedures["order_status"][1]
    assert sum(c.state == "done" for c in last.next_action.checklist) == len(
        [a for a in engine.procedures["order_status"][1] if a in actions_done])
    assert first.next_action.action == engine.procedures["order_status"][1][0]
    assert "step 1 of" in first.next_action.evidence.text
    # The article the procedure links is suggested, with the passage that answers.
    article = engine.procedures["order_status"][2]
    assert article in [k.article_id for k in first.knowledge]
    assert all(k.passage and k.id == f"kb:{k.article_id}:{10**6 + 1}:{k.id.split(':')[-1]}" for k in first.knowledge)
    # Replies are filled with this customer's values and say where they come from.
    replies = [r for u in updates for r in u.replies]
    assert replies and all("[NAME]" not in r.text and "[FULL_NAME]" not in r.text for r in replies)
    assert all(r.id.startswith("reply:") and r.evidence.sources for r in replies)
    assert any(conv.customer.first_name in r.text for r in replies)
    assert set(first.timings) >= {"encode", "knowledge", "next_action", "replies", "alerts", "total"}
    assert conv.customer.name in last.summary


def test_next_action_from_history_when_no_procedure_and_no_intent(demo, engine):
    with demo.session() as s:
        conv = _past(demo, "order_status")
        state = _start(engine, s, conv, conversation_id=10**6 + 2)
        update = engine.process(s, state, _turn(1, "customer", "hello, I have a question"))
    assert update.intent.label is None and update.intent.display == "not sure yet"
    assert update.next_action.source == "history" and update.next_action.action
    assert update.next_action.evidence.total and "similar past cases" in update.next_action.evidence.text


def test_policy_step_skipped_when_refund_comes_before_verification(demo, engine):
    conv = _past(demo, "refund_initiate")
    with demo.session() as s:
        state = _start(engine, s, conv, reason="refund_initiate", conversation_id=10**6 + 3)
        engine.process(s, state, _turn(1, "customer", "I want a refund for my jacket"))
        engine.process(s, state, _turn(2, "agent", action="pull-up-account"))
        update = engine.process(s, state, _turn(3, "agent", action="offer-refund"))
        kinds = {a.kind: a for a in update.alerts}
        assert "policy_step_skipped" in kinds and "verify-identity" in kinds["policy_step_skipped"].reason
        assert any(c.state == "skipped" or c.action == "verify-identity" and c.state == "next"
                   for c in update.next_action.checklist)
        verified = engine.process(s, state, _turn(4, "agent", action="verify-identity"))
    assert not any(a.kind == "policy_step_skipped" and "verify-identity" in a.reason for a in verified.alerts
                   if a.id.startswith("alert:policy_step_skipped") and "before verify-identity or" in a.reason)


def test_agent_text_offering_a_refund_before_verification_is_flagged(demo, engine):
    conv = _past(demo, "refund_initiate")
    with demo.session() as s:
        state = _start(engine, s, conv, reason="refund_initiate", conversation_id=10**6 + 4)
        engine.process(s, state, _turn(1, "customer", "please refund my order, it arrived torn"))
        update = engine.process(s, state, _turn(2, "agent", "Sure, I'll refund that for you right away."))
        assert any(a.kind == "policy_step_skipped" and "verify-identity" in a.reason for a in update.alerts)
        engine.process(s, state, _turn(3, "agent", action="pull-up-account"))
        later = engine.process(s, state, _turn(4, "agent", action="verify-identity"))
    assert not any(a.kind == "policy_step_skipped" for a in later.alerts)


def test_repeating_falling_sentiment_and_long_silence(demo, engine):
    conv = _past(demo, "order_status")
    with demo.session() as s:
        state = _start(engine, s, conv, conversation_id=10**6 + 5)
        engine.process(s, state, _turn(1, "customer", "Hi, my order has not arrived yet, can you check where it is?"))
        engine.process(s, state, _turn(2, "agent", "Let me look that up for you."))
        repeat = engine.process(s, state, _turn(3, "customer", "My order has not arrived yet, can you check where it is??"))
        assert any(a.kind == "repeating" and "message 1" in a.reason for a in repeat.alerts)
        engine.process(s, state, _turn(4, "customer", "This is ridiculous, nobody ever helps, worst service ever!!"))
        waited = engine.process(s, state, _turn(5, "agent", "Sorry for the wait.", at=T0 + timedelta(minutes=9)))
    kinds = {a.kind for a in waited.alerts}
    assert "sentiment_falling" in kinds and "long_silence" in kinds
    silence = next(a for a in waited.alerts if a.kind == "long_silence")
    assert "waited" in silence.reason and silence.id.startswith("alert:long_silence:")
    assert waited.sentiment[-1] < waited.sentiment[0]


def test_intent_from_the_customers_opening_with_a_workspace_model(demo, engine):
    from deskmate.assist.engine import intent_text
    from deskmate.assist.history import history_ids, load_conversations
    from deskmate.nlp.intent import IntentClassifier, training_examples

    with demo.session() as s:
        convs = load_conversations(s, demo.tenant_id, history_ids(s, demo.tenant_id))
    train, test = convs[:120], [c for c in convs[120:] if c.reason][:20]
    texts, labels = training_examples(train)
    model = engine.intent_model = IntentClassifier(finetune=False, models_dir=demo.settings.models_dir).fit(texts, labels)
    try:
        top_right = 0
        with demo.session() as s:
            for i, conv in enumerate(test):
                state = _start(engine, s, conv, conversation_id=10**7 + i)
                said = [t.text for t in conv.turns if t.role == "customer" and t.kind == "text"][:2]
                for n, text in enumerate(said, 1):
                    update = engine.process(s, state, _turn(n, "customer", text))
                # What the model says about the customer's opening, joined (as the workspace model is trained).
                expected = model.predict_proba([intent_text(said)])[0]
                best = str(model.classes_[expected.argmax()])
                assert update.intent.source == "model" and update.intent.candidates[0].label == best
                assert update.intent.label == (best if expected.max() >= min(model.threshold_, 0.5) else None)
                assert update.intent.display == (best.replace("_", " ") if update.intent.label else "not sure yet")
                top_right += best == conv.reason
                engine.forget(conv.id)
            settings = dict(engine.tenant_settings)
            engine.configure({**settings, "intent_confidence": 1.01})  # a workspace that wants certainty
            try:
                state = _start(engine, s, test[0], conversation_id=10**7 + 99)
                strict = engine.process(s, state, _turn(1, "customer", said[0]))
                assert strict.intent.label is None and strict.intent.candidates
            finally:
                engine.configure(settings)
    finally:
        engine.intent_model = None
    assert top_right / len(test) >= 0.5  # 120 conversations of 22 reasons is little; the demo replay reports the real figure


def test_the_sweep_raises_long_silence_while_the_customer_waits(demo, engine):
    conv = _past(demo, "order_status")
    with demo.session() as s:
        state = _start(engine, s, conv, conversation_id=10**6 + 6)
        first = engine.process(s, state, _turn(1, "customer", "hello? is anyone there?", at=T0))
    assert engine.sweep(state, T0 + timedelta(seconds=30)) is None  # not long yet
    swept = engine.sweep(state, T0 + timedelta(minutes=4))
    alert = next(a for a in swept.alerts if a.kind == "long_silence")
    assert "4m 00s" in alert.reason and swept.message_seq == first.message_seq
    assert engine.sweep(state, T0 + timedelta(minutes=5)) is None  # shown once
    with demo.session() as s:
        answered = engine.process(s, state, _turn(2, "agent", "Sorry for the wait!", at=T0 + timedelta(minutes=6)))
    assert [a.id for a in answered.alerts if a.kind == "long_silence"] == [alert.id]  # same alert, same id


class ReversingRanker:
    """A ranker (the engine's `rerank` interface) that puts the last candidate first and keeps what it was asked."""

    def __init__(self):
        self.asked: dict[str, list] = {}

    def rerank(self, kind, candidates, context=None):
        self.asked[kind] = list(candidates)
        return list(reversed(candidates))


def test_the_ranker_passed_in_orders_the_suggestions(demo, engine):
    from deskmate.assist.engine import AssistEngine

    ranker = ReversingRanker()
    reordered = AssistEngine(demo.settings, tenant_id=demo.tenant_id, tenant_slug=demo.tenant,
                             tenant_settings=engine.tenant_settings, models=engine.models, encoder=engine.encoder,
                             procedures=engine.procedures, ranker=ranker)
    conv = _past(demo, "order_status")
    with demo.session() as s:
        state = _start(reordered, s, conv, reason="order_status", conversation_id=10**6 + 7)
        update = reordered.process(s, state, _turn(1, "customer", "where is my order? it has not arrived yet"))
    assert len(ranker.asked["kb"]) >= 2  # the engine asked the ranker it was given, not a global one
    expected = [hit.article_id for hit in reversed(ranker.asked["kb"])][:len(update.knowledge)]
    assert [k.article_id for k in update.knowledge] == expected
