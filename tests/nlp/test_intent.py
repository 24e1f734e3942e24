"""The intent classifier on a small Banking77 slice: accuracy, confidence, out of scope, new intents, persistence."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from deskmate.errors import InvalidInput, NotFound
from deskmate.nlp.intent import IntentClassifier, load_workspace_intent_model
from deskmate.nlp.intent_data import read_labelled
from deskmate.nlp.intent_operating import OperatingPoint, choose_operating_threshold, within_limit

INTENTS = ["Refund_not_showing_up", "card_arrival", "lost_or_stolen_card", "exchange_rate", "pending_top_up", "change_pin",
           "terminate_account", "wrong_amount_of_cash_received"]
HELD_OUT = "age_limit"


def _banking(data_dir, split):
    data = read_labelled(data_dir / "banking77" / f"{split}.csv")
    return data


@pytest.fixture(scope="module")
def banking(data_dir):
    train = _banking(data_dir, "train")
    test = _banking(data_dir, "test")
    small = train.without_labels(sorted(set(train.labels) - set(INTENTS))).per_intent(12, seed=1)
    keep = [i for i, label in enumerate(test.labels) if label in INTENTS]
    oos = [t for t, label in zip(test.texts, test.labels) if label == HELD_OUT]
    extra = [t for t, label in zip(train.texts, train.labels) if label == HELD_OUT][:8]
    return {"train": small, "test": ([test.texts[i] for i in keep], [test.labels[i] for i in keep]),
            "oos": oos, "extra": extra}


@pytest.fixture(scope="module")
def model(banking, tmp_path_factory):
    models_dir = tmp_path_factory.mktemp("intent-models")
    return IntentClassifier(finetune=False, models_dir=models_dir).fit(banking["train"].texts, banking["train"].labels)


def test_sklearn_shape_and_accuracy(model, banking):
    texts, labels = banking["test"]
    assert list(model.classes_) == sorted(INTENTS)
    probs = model.predict_proba(texts)
    assert probs.shape == (len(texts), len(INTENTS))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    predicted = model.predict(texts)
    assert list(predicted) == list(model.classes_[probs.argmax(axis=1)])
    accuracy = float(np.mean(predicted == np.array(labels, dtype=object)))
    assert accuracy > 0.85, accuracy
    assert model.predict_proba([]).shape == (0, len(INTENTS))


def test_confidence_is_calibrated(model, banking):
    texts, labels = banking["test"]
    predictions = model.predict_with_confidence(texts, threshold=0.0)
    confidence = np.mean([p.confidence for p in predictions])
    accuracy = np.mean([p.label == label for p, label in zip(predictions, labels)])
    assert abs(confidence - accuracy) < 0.12, (confidence, accuracy)
    assert 0.0 < model.temperature_ and 0.0 <= model.text_weight_ <= 1.0
    assert model.calibration_["examples"] >= len(INTENTS)


def test_unknown_intents_are_answered_no_known_intent(model, banking):
    # The default point keeps almost every in-scope message answered; a team that states an
    # out-of-scope recall gets unknown intents answered "not sure" at that cost.
    texts, labels = banking["test"]
    strangers = banking["oos"] + ["What's the weather like in Lisbon tomorrow?", "Recommend me a good pizza place"]
    wary = IntentClassifier(finetune=False, min_oos_recall=0.8, models_dir=model.models_dir).fit(
        banking["train"].texts, banking["train"].labels)
    assert wary.calibration_["oos_recall"] >= 0.8 and wary.threshold_ > model.threshold_
    figures = {}
    for name, m in (("default", model), ("wary", wary)):
        known, unknown = m.predict_with_confidence(texts), m.predict_with_confidence(strangers)
        figures[name] = (np.mean([p.label is None for p in unknown]), np.mean([p.label is None for p in known]),
                         np.mean([p.label == label for p, label in zip(known, labels)]))
    (default_recall, default_withheld, default_right), (oos_recall, _, answered_right) = figures.values()
    assert oos_recall > 0.5 and oos_recall > default_recall, figures
    assert answered_right > 0.7, figures
    assert default_withheld <= 0.1 and default_right >= answered_right, figures
    for p in model.predict_with_confidence(texts[:5]):
        assert p.ranked[0][1] == pytest.approx(p.confidence, abs=1e-4)
        assert [r[1] for r in p.ranked] == sorted((r[1] for r in p.ranked), reverse=True)


def _held_out_like(rng, n=400, classes=5):
    """Calibration-like rows: mostly right and sure, some wrong and unsure; and unknown-intent confidences."""
    truth = rng.integers(classes, size=n)
    logits = rng.normal(size=(n, classes))
    logits[np.arange(n), truth] += rng.uniform(0.0, 6.0, size=n)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return probs, truth, rng.uniform(0.2, 0.9, size=150)


@pytest.mark.parametrize("max_withheld", [0.0, 0.02, 0.05, 0.2])
def test_threshold_meets_the_stated_withheld_share(max_withheld):
    probs, truth, oos = _held_out_like(np.random.default_rng(7))
    point = OperatingPoint.stated(max_withheld=max_withheld)
    threshold, stats = choose_operating_threshold(probs, truth, oos, point)
    confidence = np.sort(probs.max(axis=1))
    withheld = float((confidence < threshold).mean())
    assert withheld <= max_withheld and stats["in_scope_withheld"] == pytest.approx(withheld, abs=1e-4)
    assert within_limit((confidence < threshold).sum(), len(confidence), max_withheld)
    # The highest such threshold: one more calibration row withheld would break the stated share (with its margin).
    nxt = confidence[confidence >= threshold][0]
    assert not within_limit((confidence <= nxt).sum(), len(confidence), max_withheld)
    assert stats["operating_point"] == {"max_withheld": max_withheld}


def test_limits_keep_a_sampling_margin():
    # 5 of 100 is 5% on calibration, but one standard error more than that on new messages.
    assert within_limit(np.array([0, 2, 3, 5]), 100, 0.05).tolist() == [True, True, True, False]
    assert within_limit(np.array([3, 4]), 100, 0.0).tolist() == [False, False]


def test_default_point_also_bounds_the_accuracy_drop_and_recall_point_reaches_its_recall():
    probs, truth, oos = _held_out_like(np.random.default_rng(3))
    confidence, correct = probs.max(axis=1), probs.argmax(axis=1) == truth
    threshold, stats = choose_operating_threshold(probs, truth, oos, OperatingPoint())
    assert float((confidence < threshold).mean()) <= 0.05
    assert float(correct.mean() - ((confidence >= threshold) & correct).mean()) <= 0.02
    assert stats["operating_point"] == {"max_withheld": 0.05, "max_accuracy_drop": 0.02}

    recall_threshold, stats = choose_operating_threshold(probs, truth, oos, OperatingPoint.stated(min_oos_recall=0.9))
    assert float((oos < recall_threshold).mean()) >= 0.9 and stats["oos_recall"] >= 0.9
    last_withheld = oos[oos < recall_threshold].max()  # the lowest threshold that does: one fewer falls short
    assert float((oos < last_withheld).mean()) < 0.9
    # No unknown intents to measure recall on: the default limits, and the stats say so.
    fallback, stats = choose_operating_threshold(probs, truth, np.zeros(0), OperatingPoint.stated(min_oos_recall=0.9))
    assert np.array_equal(confidence < fallback, confidence < threshold) and "note" in stats


@pytest.mark.parametrize("kwargs", [{"max_withheld": 1.5}, {"max_withheld": -0.1}, {"min_oos_recall": 2},
                                    {"max_withheld": 0.05, "min_oos_recall": 0.8}])
def test_meaningless_operating_points_are_refused(kwargs):
    with pytest.raises(InvalidInput):
        OperatingPoint.stated(**kwargs)
    with pytest.raises(InvalidInput):
        IntentClassifier(**kwargs).fit(["a", "b"], ["x", "y"])


def test_the_operating_point_is_saved_with_the_model(model, tmp_path):
    meta = json.loads((model.save(tmp_path / "m") / "intent.json").read_text())
    calibration = meta["calibration"]
    assert calibration["operating_point"] == {"max_withheld": 0.05, "max_accuracy_drop": 0.02}
    assert calibration["in_scope_withheld"] <= 0.05
    assert calibration["accuracy"] - calibration["in_scope_answered_right"] <= 0.02 + 1e-4
    assert meta["threshold"] == model.threshold_


def test_add_intent_without_full_retraining(banking, tmp_path):
    model = IntentClassifier(finetune=False).fit(banking["train"].texts, banking["train"].labels)
    version, threshold = model.version, model.threshold_
    model.add_intent(HELD_OUT, banking["extra"])
    assert HELD_OUT in model.classes_ and model.counts_[HELD_OUT] == len(banking["extra"])
    assert model.version != version and model.threshold_ == threshold
    hits = model.predict(banking["oos"][:20])
    assert np.mean(hits == HELD_OUT) > 0.7
    texts, labels = banking["test"]
    assert np.mean(model.predict(texts) == np.array(labels, dtype=object)) > 0.85
    with pytest.raises(InvalidInput):
        model.add_intent("empty", ["  "])


def test_save_and_load_round_trip(model, banking, tmp_path):
    path = model.save(tmp_path / "m")
    meta = json.loads((path / "intent.json").read_text())
    assert meta["version"] == model.version and meta["counts"]["card_arrival"] == 12
    assert meta["classes"] == sorted(INTENTS) and meta["examples"] == 12 * len(INTENTS)
    loaded = IntentClassifier.load(path)
    texts = banking["test"][0][:10]
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts), atol=1e-6)
    assert loaded.version == model.version and loaded.threshold_ == model.threshold_


def test_load_errors(tmp_path):
    with pytest.raises(NotFound):
        IntentClassifier.load(tmp_path / "nothing")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "intent.json").write_text("{not json")
    with pytest.raises(InvalidInput):
        IntentClassifier.load(tmp_path / "bad")


@pytest.mark.parametrize("texts, labels", [(["a", "b"], ["x", "x"]), (["a"], ["x", "y"]), (["a", " "], ["x", "y"])])
def test_bad_training_data_is_refused(texts, labels):
    with pytest.raises(InvalidInput):
        IntentClassifier(finetune=False).fit(texts, labels)


def test_unfitted_model_says_so():
    with pytest.raises(InvalidInput, match="not trained"):
        IntentClassifier().predict(["hello"])


def test_workspace_model_is_cached_and_follows_new_versions(model, banking, tmp_path):
    from deskmate.config import Settings
    from deskmate.nlp.intent_store import publish

    settings = Settings(data_dir=tmp_path)
    assert load_workspace_intent_model(settings, "acme") is None
    publish(settings, "acme", model)
    first = load_workspace_intent_model(settings, "acme")
    assert first.version == model.version and load_workspace_intent_model(settings, "acme") is first
    newer = IntentClassifier.load(settings.models_dir / "acme" / "intent" / model.version)
    newer.add_intent(HELD_OUT, banking["extra"])
    publish(settings, "acme", newer)
    assert load_workspace_intent_model(settings, "acme").version == newer.version
    assert (settings.models_dir / "acme" / "intent" / model.version / "intent.json").exists()  # history is kept


def test_reads_any_label_column(tmp_path):
    path = tmp_path / "d.csv"
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([["utterance", "intent"], ["hi there", "greet"], ["", "greet"], ["bye", "leave"]])
    data = read_labelled(path)
    assert (data.text_column, data.label_column, len(data), data.skipped) == ("utterance", "intent", 2, 1)


@pytest.mark.slow
def test_finetuned_encoder_is_saved_and_used(banking, tmp_path):
    train = banking["train"].per_intent(6, seed=2)
    model = IntentClassifier(finetune=True, finetune_epochs=1, models_dir=tmp_path / "models").fit(train.texts,
                                                                                                 train.labels)
    assert model.finetune_epochs_ == 1 and model.encoder_path_ is not None
    texts, labels = banking["test"]
    assert np.mean(model.predict(texts) == np.array(labels, dtype=object)) > 0.8
    path = model.save(tmp_path / "tuned")
    assert (path / "encoder" / "model.safetensors").exists() and (path / "encoder.int8.onnx").exists()
    loaded = IntentClassifier.load(path)
    assert loaded.describe()["finetuned"] is True
    np.testing.assert_allclose(loaded.predict_proba(texts[:8]), model.predict_proba(texts[:8]), atol=1e-5)
