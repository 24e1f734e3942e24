"""`deskmate intents train | eval | predict` on files a user brings, and on the store."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from deskmate.cli import app

TRAIN = {
    "card_arrival": ["Where is my new card?", "My card still hasn't arrived", "When will my card be delivered?",
                     "I ordered a card two weeks ago and it's not here", "How long does card delivery take?",
                     "Still waiting on my card", "Card not received yet", "Has my card been shipped?"],
    "change_pin": ["How do I change my PIN?", "I want a new PIN number", "Can I reset my PIN in the app?",
                   "Where can I update my card PIN?", "Change the PIN on my card", "I forgot my PIN, can I set another?",
                   "Is it possible to pick a different PIN?", "PIN change please"],
    "exchange_rate": ["What exchange rate do you use?", "How much is the euro to dollar rate?",
                      "Is the exchange rate good today?", "Which rate applies when I pay abroad?",
                      "Do you add a margin on the exchange rate?", "Currency conversion rate please",
                      "How are exchange rates calculated?", "What rate will I get for pounds?"],
}
TEST = [("I have been waiting ages for my card", "card_arrival"), ("Set a new PIN for me", "change_pin"),
        ("What's your rate for converting yen?", "exchange_rate"), ("I want to close my account", "oos"),
        ("Can you recommend a pizza place?", "oos")]


@pytest.fixture
def run(settings, store, monkeypatch):
    monkeypatch.setenv("DESKMATE_DB_URL", settings.database_url)
    monkeypatch.setenv("DESKMATE_DATA_DIR", str(settings.data_dir))
    from deskmate.config import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, [str(a) for a in args])
    get_settings.cache_clear()


@pytest.fixture
def files(tmp_path):
    train_csv = tmp_path / "train.csv"
    with train_csv.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "category"])
        writer.writerows([text, label] for label, texts in TRAIN.items() for text in texts)
    test_jsonl = tmp_path / "test.jsonl"
    test_jsonl.write_text("\n".join(json.dumps({"utterance": t, "intent": i}) for t, i in TEST) + "\n")
    return train_csv, test_jsonl


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_train_eval_predict_on_user_files(run, files, tmp_path):
    train_csv, test_jsonl = files
    out = tmp_path / "model"
    trained = run("intents", "train", train_csv, "--out", out, "--no-finetune")
    assert trained.exit_code == 0, trained.output
    assert "column category" in trained.output and "24 rows, 3 labels" in trained.output
    assert (out / "intent.json").exists()
    version = json.loads((out / "intent.json").read_text())["version"]
    assert version in trained.output

    evaluated = run("intents", "eval", out, test_jsonl)
    assert evaluated.exit_code == 0, evaluated.output
    for words in ("accuracy", "macro-F1", "out-of-scope recall", "out-of-scope precision", "per intent",
                  "column utterance", "column intent"):
        assert words in evaluated.output
    as_json = json.loads(run("intents", "eval", out, test_jsonl, "--json").output)
    assert as_json["in_scope"] == 3 and as_json["out_of_scope"] == 2 and as_json["accuracy"] >= 2 / 3

    predicted = run("intents", "predict", "my card never came in the post", "--model", out, "--json")
    assert predicted.exit_code == 0, predicted.output
    answer = json.loads(predicted.output)
    assert answer["ranked"][0][0] == "card_arrival" and answer["model_version"] == version


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_operating_point_is_stated_saved_and_its_curve_printed(run, files, tmp_path):
    train_csv, test_jsonl = files
    out = tmp_path / "model"
    trained = run("intents", "train", train_csv, "--out", out, "--no-finetune", "--max-withheld", "0.1")
    assert trained.exit_code == 0, trained.output
    calibration = json.loads((out / "intent.json").read_text())["calibration"]
    assert calibration["operating_point"] == {"max_withheld": 0.1}  # stated alone: no default accuracy-drop limit
    assert calibration["in_scope_withheld"] <= 0.1
    assert "at most 10% of in-scope messages withheld" in trained.output

    evaluated = run("intents", "eval", out, test_jsonl)
    assert evaluated.exit_code == 0, evaluated.output
    assert "operating curve" in evaluated.output and "<- chosen" in evaluated.output
    assert f"chosen point: threshold {json.loads((out / 'intent.json').read_text())['threshold']:.3f}" in evaluated.output
    assert "for at most 10% of in-scope messages withheld" in evaluated.output
    report = json.loads(run("intents", "eval", out, test_jsonl, "--json").output)
    curve = report["curve"]
    assert [row["threshold"] for row in curve] == sorted(row["threshold"] for row in curve)
    for before, after in zip(curve, curve[1:]):  # a higher threshold withholds more, of both kinds
        assert after["in_scope_withheld"] >= before["in_scope_withheld"]
        assert after["in_scope_answered_right"] <= before["in_scope_answered_right"]
        assert after["oos_recall"] >= before["oos_recall"]
    (chosen,) = [row for row in curve if row["chosen"]]
    assert chosen["threshold"] == report["threshold"]
    assert (chosen["in_scope_withheld"], chosen["oos_recall"]) == (report["in_scope_withheld"], report["oos_recall"])
    assert curve[0]["threshold"] == 0.0 and curve[0]["in_scope_answered_right"] == report["accuracy"]

    given = json.loads(run("intents", "eval", out, test_jsonl, "--json", "--threshold", "0.99").output)
    assert [row["threshold"] for row in given["curve"] if row["chosen"]] == [0.99]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("args, message", [
    (["--max-withheld", "1.5"], "max withheld share must be a share between 0 and 1"),
    (["--max-accuracy-drop", "-0.01"], "max accuracy drop must be a share between 0 and 1"),
    (["--min-oos-recall", "0.8", "--max-withheld", "0.05"], "not both"),
])
def test_meaningless_operating_points_exit_2(run, files, tmp_path, args, message):
    train_csv, _ = files
    result = run("intents", "train", train_csv, "--out", tmp_path / "m", "--no-finetune", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_examples_per_intent_subsamples(run, files, tmp_path):
    train_csv, _ = files
    out = tmp_path / "few"
    assert run("intents", "train", train_csv, "--out", out, "--no-finetune", "--examples-per-intent", 5).exit_code == 0
    assert json.loads((out / "intent.json").read_text())["counts"] == {label: 5 for label in TRAIN}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("content, message", [
    ("", "empty"),
    ("words,tag\nhello,x\n", "no text column"),
    ("text,label\nonly one,x\nanother,x\n", "at least two intents"),
    ('{"text": "hi", "label": "x"}\nnot json\n', "line 2 is not valid JSON"),
])
def test_bad_files_are_one_line_and_exit_2(run, tmp_path, content, message):
    bad = tmp_path / ("bad.jsonl" if content.startswith("{") else "bad.csv")
    bad.write_text(content)
    result = run("intents", "train", bad, "--out", tmp_path / "m", "--no-finetune")
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) <= 2  # the error, maybe the columns line before it


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_missing_inputs_exit_2(run, tmp_path):
    assert run("intents", "train", tmp_path / "nope.csv").exit_code == 2
    assert run("intents", "eval", tmp_path / "no-model", tmp_path / "nope.csv").exit_code == 2
    result = run("intents", "predict", "hello", "--tenant", "ghost")
    assert result.exit_code == 2 and "no intent model" in result.output


def _add_conversations(store, tenant_id: int) -> None:
    from deskmate.accounts.models import Tenant
    from deskmate.conversations.models import ConversationCreate, MessageCreate
    from deskmate.conversations.service import create_conversation

    with store.session() as session:
        tenant = session.get(Tenant, tenant_id)
        for label, texts in TRAIN.items():
            for i, text in enumerate(texts):
                create_conversation(session, tenant=tenant, data=ConversationCreate(
                    reason=label, messages=[MessageCreate(role="customer", text=text),
                                            MessageCreate(role="agent", text="Let me check that for you."),
                                            MessageCreate(role="customer", text=f"thanks ({i})")]))
        create_conversation(session, tenant=tenant, data=ConversationCreate(
            reason="rare_reason", messages=[MessageCreate(role="customer", text="something unusual")]))


def test_train_from_store_predict_and_pipeline_idempotent(run, store, workspace, settings):
    from deskmate.nlp import pipeline
    from deskmate.nlp.intent import load_workspace_intent_model

    _add_conversations(store, workspace.tenant_id)
    trained = run("intents", "train", "--from-store", "--tenant", "acme", "--no-finetune")
    assert trained.exit_code == 0, trained.output
    assert "rare_reason" in trained.output  # named as left out
    model = load_workspace_intent_model(settings, "acme")
    assert model is not None and set(model.classes_) == set(TRAIN)
    assert model.counts_["card_arrival"] == 16  # first message, and first two joined, per conversation

    again = pipeline.prepare_workspace(settings, store.sessionmaker, workspace.tenant_id, None)
    assert not again.trained and again.version == model.version and "unchanged" in again.reason
    predicted = run("intents", "predict", "where is my card?", "--tenant", "acme")
    assert predicted.exit_code == 0 and "card_arrival" in predicted.output
    from deskmate.plugins import default_prepare_steps

    steps = [s.domain for s in default_prepare_steps()]
    # after reasons (topics give unlabelled history its reasons), before assist and insights, which read the model
    assert steps.index("nlp") == 1 and steps[0] == "reasons"
    assert default_prepare_steps()[1].run is pipeline.prepare_workspace


def test_predictions_are_recorded_with_the_model_version(store, workspace, settings):
    from sqlalchemy import select

    from deskmate.conversations.models import Conversation
    from deskmate.nlp.intent import IntentPrediction
    from deskmate.nlp.intent_store import record_intent_predictions
    from deskmate.nlp.models import IntentPredictionRecord

    _add_conversations(store, workspace.tenant_id)
    with store.session() as session:
        conv = session.scalars(select(Conversation).where(Conversation.tenant_id == workspace.tenant_id)).first()
        n = record_intent_predictions(
            session, tenant_id=workspace.tenant_id, conversation_id=conv.id, model_version="20260101-000000-abcd1234",
            predictions=[(conv.messages[0].id, IntentPrediction("card_arrival", 0.93, [("card_arrival", 0.93)])),
                         (None, IntentPrediction(None, 0.31, [("change_pin", 0.31)]))])
        assert n == 2
    with store.session() as session:
        rows = session.scalars(select(IntentPredictionRecord).order_by(IntentPredictionRecord.id)).all()
        assert [(r.label, r.model_version) for r in rows] == [("card_arrival", "20260101-000000-abcd1234"),
                                                             (None, "20260101-000000-abcd1234")]
        assert rows[1].message_id is None and rows[0].created_at.tzinfo is not None
