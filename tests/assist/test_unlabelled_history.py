"""History with no outcomes and no reasons still teaches live assist (issue #12).

Conversations are built in memory the way `history.load_conversations` returns them and trained with
the real `build_models`, against the session demo workspace's database (for its procedures and names).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import numpy as np
import pytest

from deskmate.conversations.transcript import CustomerView, Transcript, Turn

CITIES = ["San Jose", "Oakland", "Fresno", "Berkeley", "Napa", "Sacramento"]
PEOPLE = [("Alice Morgan", "alice.morgan@example.com"), ("Priya Raman", "priya.raman@example.org"),
          ("Tomas Lind", "tomas.lind@example.net"), ("Wen Zhao", "wen.zhao@example.com")]


def _conversation(i: int, kind: str, rng: random.Random, *, outcome=None, reason=None, person=None) -> Transcript:
    t0 = datetime(2025, 3, 1, 9) + timedelta(minutes=10 * i)
    name, email = person or rng.choice(PEOPLE)
    city = rng.choice(CITIES)
    if kind == "table":
        lines = [("customer", rng.choice(["I'd like to book a table for dinner", "Can you reserve a restaurant table for two?",
                                           "I want to make a restaurant reservation"])),
                 ("agent", "Which city would you like to eat in?"), ("customer", f"In {city}, please."),
                 ("action", "FindRestaurants"), ("agent", f"I found a nice place in {city}. Shall I book it?"),
                 ("customer", "Yes, book it."), ("action", "ReserveRestaurant"),
                 ("agent", f"Done, {name.split()[0]}: your table is booked. The confirmation went to {email}.")]
    else:
        lines = [("customer", rng.choice(["I need a cab to the airport", "Can you get me a taxi?",
                                           "Please order me a ride"])),
                 ("agent", "Where should the driver pick you up?"), ("customer", f"From downtown {city}."),
                 ("action", "GetRide"), ("agent", f"Your cab is on its way, {name.split()[0]}. It arrives in 5 minutes."),
                 ("customer", "Great, thanks!")]
    turns = []
    for seq, (role, text) in enumerate(lines, start=1):
        at = t0 + timedelta(seconds=20 * seq)
        if role == "action":
            turns.append(Turn(seq, "agent", "action", "", text, {}, at))
        else:
            turns.append(Turn(seq, role, "text", text, None, {}, at))
    customer = CustomerView(id=None, external_id=f"c{i}", name=name, email=email)
    return Transcript(turns=turns, conversation_id=100000 + i, external_id=f"conv-{i}", reason=reason, outcome=outcome,
                      status="closed", started_at=t0, customer=customer, agent_name="Sam Lee")


def _history(n: int, seed: int = 3) -> list[Transcript]:
    rng = random.Random(seed)
    return [_conversation(i, "table" if i % 2 else "ride", rng) for i in range(n)]


@pytest.fixture(scope="module")
def unlabelled(demo):
    from deskmate.assist.pipeline import build_models
    from deskmate.nlp.encoder import get_encoder

    encoder = get_encoder(demo.settings)
    with demo.session() as session:
        models = build_models(session, tenant_id=demo.tenant_id, conversations=_history(60), encoder=encoder,
                              version="unlabelled-test")
    return models, encoder


def _engine(demo, models, encoder):
    from deskmate.assist.engine import AssistEngine

    return AssistEngine(demo.settings, tenant_id=demo.tenant_id, tenant_slug=demo.tenant, tenant_settings={},
                        models=models, encoder=encoder, procedures={})


def _live(demo, engine, lines, *, customer: CustomerView | None = None, conversation_id: int = 900001):
    with demo.session() as session:
        state = engine.start(session, conversation_id=conversation_id, customer_id=None, agent_name="Sam Lee",
                             reason=None, started_at=datetime(2025, 6, 1, 9))
        if customer is not None:
            state.customer = customer
        update = None
        for seq, (role, kind, text) in enumerate(lines, start=1):
            turn = Turn(seq, role, kind, text if kind == "text" else "", text if kind == "action" else None, {},
                        datetime(2025, 6, 1, 9, 0, seq))
            update = engine.process(session, state, turn)
        engine.forget(conversation_id)
        return update


def test_next_action_and_replies_are_learned_from_history_with_no_outcomes(demo, unlabelled):
    models, encoder = unlabelled
    assert models.next_actions.fitted and set(models.next_actions.classes_) == {"FindRestaurants", "ReserveRestaurant", "GetRide"}
    assert models.info["reply_examples"] > 100  # every conversation taught, none had an outcome
    engine = _engine(demo, models, encoder)
    ride = _live(demo, engine, [("customer", "text", "could you get me a taxi please"),
                                ("agent", "text", "Where should the driver pick you up?"),
                                ("customer", "text", "From downtown Napa.")])
    assert ride.next_action.action == "GetRide" and ride.next_action.source == "history"
    assert ride.replies and "cab" in ride.replies[0].text.lower()
    table = _live(demo, engine, [("customer", "text", "I want to make a restaurant reservation"),
                                 ("agent", "text", "Which city would you like to eat in?"), ("customer", "text", "In Oakland, please."),
                                 ("agent", "action", "FindRestaurants"),
                                 ("agent", "text", "I found a nice place in Oakland. Shall I book it?"),
                                 ("customer", "text", "Yes, book it.")], conversation_id=900002)
    assert table.next_action.action == "ReserveRestaurant"


def test_what_agents_usually_do_is_mined_with_support_and_kept_apart_from_policy(demo, unlabelled):
    models, encoder = unlabelled
    assert [a for a, _, _ in models.actions.usual_steps(None)][:1] in (["GetRide"], ["FindRestaurants"])
    engine = _engine(demo, models, encoder)
    update = _live(demo, engine, [("customer", "text", "I want to make a restaurant reservation"),
                                  ("agent", "text", "Which city would you like to eat in?"),
                                  ("customer", "text", "In Fresno, please."), ("agent", "action", "FindRestaurants")],
                   conversation_id=900003)
    nba = update.next_action
    assert nba.checklist == [] and nba.procedure is None  # no policy: nothing is presented as required
    assert nba.usual and all(s.total >= s.support > 0 for s in nba.usual)
    assert nba.evidence.total and "similar past cases" in nba.evidence.text
    with_policy = _engine(demo, models, encoder)
    with_policy.procedures = {"book_table": ("Booking policy", ["FindRestaurants", "ReserveRestaurant"], None)}
    with demo.session() as session:
        state = with_policy.start(session, conversation_id=900004, customer_id=None, agent_name=None,
                                  reason="book_table", started_at=None)
        policy = with_policy.process(session, state, None).next_action
    assert policy.source == "procedure" and [s.action for s in policy.checklist] == ["FindRestaurants", "ReserveRestaurant"]
    assert policy.usual == []  # the checklist is policy; mined habits are not mixed into it


def test_no_customer_value_leaks_into_another_customers_suggestion(demo, unlabelled):
    models, encoder = unlabelled
    for name, email in PEOPLE:  # the bank holds templates, not anyone's values
        assert not any(email in t or name.split()[0] in t for t in models.replies.templates_)
    engine = _engine(demo, models, encoder)
    bob = CustomerView(name="Bob Stone", email="bob.stone@example.com")
    update = _live(demo, engine, [("customer", "text", "I want to make a restaurant reservation"),
                                  ("agent", "text", "Which city would you like to eat in?"), ("customer", "text", "Napa"),
                                  ("agent", "action", "FindRestaurants"),
                                  ("agent", "text", "I found a nice place in Napa. Shall I book it?"),
                                  ("customer", "text", "Yes, book it."), ("agent", "action", "ReserveRestaurant")],
                   customer=bob, conversation_id=900005)
    texts = " ".join(r.text for r in update.replies)
    assert update.replies and "booked" in update.replies[0].text
    assert "bob.stone@example.com" in texts and "Bob" in texts  # filled with this customer's values
    for name, email in PEOPLE:
        assert email not in texts and name.split()[0] not in texts


def test_a_model_trained_on_nothing_is_not_better_than_chance(demo):
    from deskmate.assist.pipeline import build_models
    from deskmate.nlp.encoder import get_encoder

    encoder = get_encoder(demo.settings)
    with demo.session() as session:
        empty = build_models(session, tenant_id=demo.tenant_id, conversations=[], encoder=encoder, version="empty-test")
    assert not empty.next_actions.fitted and not empty.replies.selector_.fitted
    update = _live(demo, _engine(demo, empty, encoder), [("customer", "text", "can I get a taxi")], conversation_id=900006)
    assert update.next_action.action is None and update.replies == []
    candidates = encoder.encode(["Your cab is on its way.", "Which city would you like to eat in?", "Hello"])
    scores = empty.replies.score_texts(np.zeros(encoder.dim, dtype=np.float32), candidates)
    assert len(set(scores.tolist())) == 1  # every candidate alike: a tie, which replay counts as a miss


def test_outcome_weights_keep_unlabelled_history_and_trust_explicit_signals():
    from deskmate.assist.outcome_weight import CLOSED_BADLY, CLOSED_WELL, FAILED, UNKNOWN, outcome_weights

    rng = random.Random(0)
    convs = [_conversation(0, "ride", rng, outcome="resolved"), _conversation(1, "ride", rng, outcome="escalated"),
             _conversation(2, "ride", rng), _conversation(3, "table", rng), _conversation(4, "ride", rng)]
    convs[4].turns.append(Turn(99, "customer", "text", "this is still not working, forget it", None, {}, None))
    weights = outcome_weights(convs, scores={convs[3].id: 0.42})
    assert weights.tolist() == [1.0, FAILED, CLOSED_WELL, 0.42, CLOSED_BADLY]  # "Great, thanks!" closes the ride
    assert (weights > 0).all() and UNKNOWN > FAILED


def test_weighted_action_counts_and_old_files(tmp_path):
    import json

    from deskmate.assist.actions import ActionModel

    model = ActionModel().fit([(None, ["a", "b"]), (None, ["a", "c"]), (None, ["a", "c"]), (None, ["a", "b"])],
                              weights=[1.0, 0.1, 0.1, 1.0])
    step = model.next_action({}, ["a"])
    assert step.action == "b" and (step.support, step.total) == (2, 4)  # shown as conversations, ranked by weight
    model.save(tmp_path / "actions.json")
    again = ActionModel.load(tmp_path / "actions.json")
    assert again.next_action({}, ["a"]).action == "b" and again.support(None, ["a"], "c") == (2, 4)
    (tmp_path / "old.json").write_text(json.dumps({"last|*": {"a": {"b": 3, "c": 1}}}))
    assert ActionModel.load(tmp_path / "old.json").next_action({}, ["a"]).action == "b"


def test_replies_answer_the_last_message_instead_of_asking_for_what_is_known():
    from types import SimpleNamespace

    from deskmate.assist.answering import asks_for, customer_waiting, known_values, penalty

    assert asks_for("Could you please provide your email address?") == {"[EMAIL]"}
    assert asks_for("What's your full name?") == {"[NAME]"} and asks_for("Your refund is on its way.") == set()
    turns = [SimpleNamespace(role="customer", kind="text", text="sure, it's bob.stone@example.com")]
    waiting, last = customer_waiting(turns)
    known = known_values({"[FULL_NAME]": "Bob Stone"}, last)
    assert waiting and known >= {"[EMAIL]", "[NAME]"}
    assert penalty("Can I have your e-mail address please?", known, waiting) == 1  # just given
    assert penalty("May I have your name?", known, waiting) == 1  # on the context card
    assert penalty("Is there anything else I can help you with?", known, waiting) == 1  # the customer still waits
    assert penalty("Thanks, I have found your order.", known, waiting) == 0
    done, _ = customer_waiting([SimpleNamespace(role="customer", kind="text", text="That's all, thanks!")])
    assert not done and penalty("Is there anything else I can help you with?", known, done) == 0
