"""Resolution from the conversation alone: rules without history, a fitted model with it."""

import random

import numpy as np
import pytest

from deskmate.outcomes.resolution import (
    ResolutionModel,
    make_sample,
    rule_estimates,
    trainable,
)
from tests.outcomes.factory import HAPPY_REFUND, REFUND, transcript

ESCALATED = [
    ("c", "I was charged twice and I want to speak to a manager."),
    ("a", "I'm sorry. I'm not able to solve this from here, so I'm escalating it to our billing team."),
    ("act", "notify-team", {"team": "billing"}),
    ("a", "They'll contact you by email within 2 business days."),
    ("c", "fine"),
]
ABANDONED = [
    ("c", "hi, my promo code doesn't work"),
    ("a", "Sorry to hear that! Could you tell me the code?"),
    ("c", "hello??", 300),
]
UNRESOLVED = [
    ("c", "My jacket arrived torn, I want a refund."),
    ("a", "I'm sorry, worn items can't be refunded under our returns policy."),
    ("c", "This is ridiculous, it was torn when it arrived. Not helpful at all."),
    ("a", "I understand, but there's nothing I can do."),
    ("c", "Forget it, I'll dispute it with my bank."),
]


def rules(script, **kw):
    return rule_estimates([make_sample(transcript(script, close_after=kw.pop("close_after", 60)), kw.get("required"))])[0]


def test_rules_read_how_the_conversation_ended():
    assert rules(HAPPY_REFUND, required=REFUND).outcome == "resolved"
    assert rules(ESCALATED).outcome == "escalated"
    assert rules(ABANDONED, close_after=1800).outcome == "abandoned"
    assert rules(UNRESOLVED).outcome == "unresolved"
    est = rules(HAPPY_REFUND, required=REFUND)
    assert est.source == "rules" and abs(sum(est.probabilities.values()) - 1) < 1e-6 and est.probability > 0.5


def _variant(rng, outcome):
    base = {"resolved": HAPPY_REFUND, "escalated": ESCALATED, "abandoned": ABANDONED, "unresolved": UNRESOLVED}[outcome]
    script = [x for x in base if rng.random() > 0.15 or x[0] == "act"]  # drop some turns at random
    fillers = [("c", "ok"), ("a", "One moment while I check that."), ("c", "sure"), ("a", "Let me look that up.")]
    for _ in range(rng.randint(0, 3)):
        script.insert(rng.randint(1, max(1, len(script) - 1)), rng.choice(fillers))
    return transcript(script or base, close_after=1800 if outcome == "abandoned" else rng.randint(10, 120))


def test_model_learns_outcomes_and_round_trips(tmp_path):
    rng = random.Random(7)
    labels = [rng.choice(["resolved", "resolved", "unresolved", "escalated", "abandoned"]) for _ in range(240)]
    samples = [make_sample(_variant(rng, y), REFUND if y == "resolved" else None) for y in labels]
    assert trainable(labels) and not trainable(labels[:20]) and not trainable(["resolved"] * 100)
    model = ResolutionModel().fit(samples[:180], labels[:180])
    accuracy = np.mean(model.predict(samples[180:]) == np.array(labels[180:]))
    assert accuracy >= 0.9
    proba = model.predict_proba(samples[180:])
    assert np.allclose(proba.sum(axis=1), 1.0)
    est = model.estimates(samples[180:181])[0]
    assert est.source == "model" and est.version == model.version and set(est.probabilities) >= set(model.classes_)
    path = model.save(tmp_path / "m" / "resolution.joblib")
    again = ResolutionModel.load(path)
    assert again.version == model.version and np.allclose(again.predict_proba(samples[180:]), proba)
    assert (tmp_path / "m" / "resolution.json").exists()


def _fitted(seed: int = 7, n: int = 120) -> ResolutionModel:
    rng = random.Random(seed)
    labels = [rng.choice(["resolved", "resolved", "unresolved", "escalated", "abandoned"]) for _ in range(n)]
    return ResolutionModel(calibration_folds=0).fit([make_sample(_variant(rng, y)) for y in labels], labels)


def test_the_workspace_model_is_a_store_version_loaded_once(tmp_path):
    from deskmate.modelstore import ModelStore
    from deskmate.outcomes.resolution import (
        RESOLUTION, load_workspace_model, model_path, save_workspace_model,
    )

    assert load_workspace_model(tmp_path, "acme") is None
    first = _fitted()
    version = save_workspace_model(tmp_path, "acme", first)
    loaded = load_workspace_model(tmp_path, "acme")
    assert version == first.version == loaded.version and load_workspace_model(tmp_path, "acme") is loaded
    # transitional: a model written where outcomes.service still writes it is taken into the store
    second = _fitted(seed=8)
    second.version = first.version + "-b"
    second.save(model_path(tmp_path, "acme"))
    assert load_workspace_model(tmp_path, "acme").version == second.version
    assert not model_path(tmp_path, "acme").exists()
    store = ModelStore(tmp_path)
    assert store.versions(RESOLUTION, "acme") == [first.version, second.version]
    assert store.rollback(RESOLUTION, "acme") == first.version
    assert load_workspace_model(tmp_path, "acme").version == first.version


def test_load_rejects_a_foreign_file(tmp_path):
    import joblib

    joblib.dump({"not": "a model"}, tmp_path / "x.joblib")
    with pytest.raises(TypeError):
        ResolutionModel.load(tmp_path / "x.joblib")
