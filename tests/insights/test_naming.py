"""Topic names a support lead would write: typos read as the word meant, no fragments, short phrases."""

from __future__ import annotations

import csv
import re

import pytest

from deskmate.insights.naming import GENERIC_NAME, MIN_REAL, Wording, class_tfidf, known_words, name_topics
from tests.conftest import shared_data_dir


def _docs():
    """Three topics as customers type them: typos, lost capitals, contractions, greetings."""
    reset = (["I need to reset my password", "can you reset my password please", "hi, reset my password?",
              "how do I reset my password", "i need to reset my password, the link doesn't work"] * 4
             + ["how do I reset my pasword", "need to rest my password"])
    refund = (["I want a refund for the damaged item", "refund for the damaged item please",
               "the item arrived damaged, I need a refund", "can I get a refund for a damaged item?",
               "refund for my damaged item"] * 4 + ["refnud for the damaged item"])
    hello = (["hi I need assistance please", "hi i need assistance please", "hello, is anyone there?",
              "hello, can someone help me?", "Hi, is anyone there?"] * 3 + ["hi I ened assistance please", "is anoyne there"])
    docs = reset + refund + hello
    return docs, [0] * len(reset) + [1] * len(refund) + [2] * len(hello)


def test_typos_read_as_the_frequent_word_next_to_them():
    docs, _ = _docs()
    w = Wording(docs)
    assert w.typos["ened"] == "need" and w.typos["pasword"] == "password" and w.typos["refnud"] == "refund"
    assert "anoyne" in w.typos and not w.real("ened") and w.real("password")
    assert w.normalise("I don't know, it doesn't work") == "do not know it does not work"  # no "doesn" fragment
    # A word the encoder's vocabulary knows is never a typo, however rare beside its neighbour.
    assert "cart" not in Wording(["card"] * 30 + ["cart"]).typos


def test_names_are_short_phrases_without_fragments():
    docs, labels = _docs()
    names = name_topics(docs, labels, 3)
    assert names[0] == "Reset password"
    assert names[1] == "Refund for damaged item"
    assert names[2] == GENERIC_NAME  # a greeting and no request yet
    terms = class_tfidf(docs, labels, 3)
    shown = {w for ts in terms for t, _ in ts for w in t.split()}
    assert not shown & {"ened", "pasword", "refnud", "anoyne", "doesn"}


def test_names_are_unique():
    docs, labels = _docs()
    names = name_topics(docs + docs[:21], labels + [3] * 21, 4)  # a second "reset password" topic
    assert len(set(names)) == 4 and names[3].startswith("Reset password")


def test_names_on_real_customer_queries():
    """Banking77: real queries, named per true intent; every word of every name is a real word."""
    path = shared_data_dir() / "banking77" / "test.csv"
    if not path.exists():
        pytest.skip(f"{path} not found (set DESKMATE_DATA)")
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    intents = sorted({r["category"] for r in rows})
    index = {c: i for i, c in enumerate(intents)}
    docs = [r["text"] for r in rows]
    names = dict(zip(intents, name_topics(docs, [index[r["category"]] for r in rows], len(intents))))
    assert names["change_pin"] == "Change pin" and names["card_arrival"] == "Card not arrived"
    assert names["transaction_charged_twice"] == "Charged twice" and names["terminate_account"] == "Delete account"
    assert len(set(names.values())) == len(intents)
    wording, known = Wording(docs), known_words()
    for name in names.values():
        words = re.findall(r"[a-z]+", name.lower())
        assert 1 <= len(words) <= 6, name
        assert all(w in known or wording.counts[w] >= MIN_REAL for w in words), name
