"""Sentiment on support-chat language, its accuracy on the authored held-out set, and trajectories."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from deskmate.nlp.sentiment import score_message, score_messages, trajectory

DATA = Path(__file__).resolve().parents[1] / "data"


def label(text: str) -> str:
    return score_message(text).label


@pytest.mark.parametrize(
    "text, expected",
    [
        ("still waiting for my refund", "negative"),
        ("this is the third time I ask", "negative"),
        ("this is ridiculous", "negative"),
        ("great, just great", "negative"),
        ("thanks for nothing", "negative"),
        ("yeah right", "negative"),
        ("Perfect, now the app won't even open", "negative"),
        ("Thanks a lot... not", "negative"),
        ("WHERE IS MY PARCEL", "negative"),
        ("where is my parcel???", "negative"),
        ("not happy", "negative"),
        ("not bad", "positive"),
        ("not bad at all, the new one is better", "positive"),
        ("thank you so much", "positive"),
        ("THANK YOU SO MUCH", "positive"),
        ("Thanks, but it still doesn't work", "negative"),
        ("Great, the refund came through", "positive"),
        ("Can you send me the invoice for order 1234?", "neutral"),
        ("Let me check that for you", "neutral"),
        ("", "neutral"),
        ("it works now :)", "positive"),
        ("the parcel never arrived :(", "negative"),
    ],
)
def test_support_phenomena(text, expected):
    assert label(text) == expected


def test_intensity_is_ordered():
    mild = score_message("I'm a bit disappointed").score
    strong = score_message("I'm extremely disappointed").score
    shouted = score_message("I'M EXTREMELY DISAPPOINTED!!!").score
    assert 0 > mild > strong > shouted >= -1
    assert score_message("thanks").score < score_message("thanks so much!!").score <= 1


def test_cues_explain_the_score():
    cues = score_message("Great, just great. Still waiting!!!").cues
    assert "still waiting" in cues and "sarcasm" in cues and "!!" in cues


def _evaluate(path: Path) -> tuple[float, float]:
    from sklearn.metrics import accuracy_score, f1_score

    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    gold = [r["label"] for r in rows]
    predicted = [m.label for m in score_messages([r["text"] for r in rows])]
    return accuracy_score(gold, predicted), f1_score(gold, predicted, average="macro")


def test_held_out_support_set_accuracy():
    path = DATA / "sentiment_support.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert len(rows) >= 300 and {r["label"] for r in rows} == {"negative", "neutral", "positive"}
    dev_texts = {r["text"].lower() for r in csv.DictReader((DATA / "sentiment_dev.csv").open(encoding="utf-8"))}
    assert not dev_texts & {r["text"].lower() for r in rows}, "the report set must not share texts with the dev set"
    accuracy, macro_f1 = _evaluate(path)
    assert accuracy >= 0.92 and macro_f1 >= 0.92, (accuracy, macro_f1)


def test_trajectory_of_a_souring_conversation():
    scores = [s.score for s in score_messages([
        "Hi, I'd like to check my order",
        "It was supposed to arrive on Monday",
        "Still waiting, this is ridiculous!!!",
        "ok, thanks for the refund",
    ])]
    t = trajectory(scores)
    assert t.start == scores[0] and t.end == scores[-1]
    assert t.lowest_index == 2 and t.lowest == min(scores) < -0.5
    assert t.shift == pytest.approx(scores[-1] - scores[0], abs=1e-4)
    falling = trajectory([0.6, 0.1, -0.7])
    assert falling.falling and falling.shift == pytest.approx(-1.3)
    assert not trajectory([-0.5, 0.0, 0.8]).falling


def test_trajectory_of_nothing():
    t = trajectory([])
    assert t.lowest_index is None and not t.falling and t.shift == 0.0
