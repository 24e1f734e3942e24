"""The intent classifier on a small Banking77 slice: accuracy, confidence, out of scope, new intents, persistence."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from deskmate.errors import InvalidInput, NotFound
from deskmate.nlp.intent import IntentClassifier, choose_threshold, load_workspace_intent_model
from deskmate.nlp.intent_data import read_labelled

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
    texts, labels = banking["test"]
    known = model.predict_with_confidence(texts)
    unknown = model.predict_with_confidence(banking["oos"] + ["What's the weather like in Lisbon tomorrow?",
                                                              "Recommend me a good pizza place"])
    oos_recall = np.mean([p.label is None for p in unknown])
    answered_right = np.mean([p.label == label for p, label in zip(known, labels)])
    assert oos_recall > 0.5, oos_recall
    assert answered_right > 0.7, answered_right
    for p in known[:5]:
        assert p.ranked[0][1] == pytest.approx(p.confidence, abs=1e-4)
        assert [r[1] for r in p.ranked] == sorted((r[1] for r in p.ranked), reverse=True)


def test_threshold_separates_right_from_unknown():
    # Right answers sure of themselves, wrong ones unsure: the cut must fall between them.
    probs = np.array([[0.9, 0.05, 0.05]] * 8 + [[0.4, 0.35, 0.25]] * 2)
    truth = np.array([0] * 8 + [1] * 2)
    threshold, stats = choose_threshold(probs, truth, np.zeros(0))
    assert 0.4 < threshold <= 0.9
    assert stats["in_scope_handled"] == 1.0


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
