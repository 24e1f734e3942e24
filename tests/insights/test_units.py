"""Pure stages on hand-made input: extraction fields, topic model (k estimated), naming, hierarchy, matching."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import count

import numpy as np
from sklearn.metrics import adjusted_rand_score

from deskmate.insights.clustering import TopicModel, knn_graph, nearest
from deskmate.conversations.transcript import Transcript, Turn
from deskmate.insights.extract import extract, opening_text
from deskmate.insights.naming import class_tfidf, contrast_terms
from deskmate.insights.topics import _parents

T0 = datetime(2026, 8, 3, 10, tzinfo=timezone.utc)
_seq = count(1)


def turn(role, text="", action=None, minute=0):
    return Turn(next(_seq), role, "action" if action else "text", text, action, {}, T0 + timedelta(minutes=minute))


def test_opening_is_the_customers_first_words_not_the_ending():
    turns = [turn("customer", "hi", minute=0), turn("agent", "Hello! How can I help?", minute=1),
             turn("customer", "my Alder Parka zip broke", minute=2), turn("agent", "Sorry to hear that.", minute=3),
             turn("customer", "ok thanks", minute=4)]
    assert opening_text(turns) == "hi my Alder Parka zip broke"


def _stall(turns, procedure):
    ex = extract(Transcript(turns, conversation_id=1, started_at=T0), procedure=procedure)
    return ex.procedure_steps, ex.procedure_done, ex.stalled_at


def test_procedure_progress_finds_the_stall():
    turns = [turn("agent", action="pull-up-account"), turn("agent", action="offer-refund")]
    assert _stall(turns, ["pull-up-account", "verify-identity", "offer-refund"]) == (3, 1, "verify-identity")
    assert _stall(turns, None) == (None, None, None)
    full = [turn("agent", action=a) for a in ("a", "b")]
    assert _stall(full, ["a", "b"]) == (2, 2, None)


def test_extract_fields_and_product_masking():
    view = Transcript([
        turn("customer", "The zipper on my Alder Parka broke, order ORD-12345, I paid $120", minute=0),
        turn("agent", "Sorry about that", minute=1), turn("customer", "this is useless", minute=5)],
        conversation_id=1, external_id="c-1", channel="chat", status="closed", started_at=T0,
        ended_at=T0 + timedelta(minutes=9), outcome="unresolved", reason="damaged_item")
    ex = extract(view, catalogue=["Alder Parka", "Canvas Tote"])
    assert ex.products == ["Alder Parka"]
    assert "product" in ex.topic_text and "Alder" not in ex.topic_text and "Alder Parka" in ex.opening_text
    assert ex.entities.get("amount") == [120.0]
    assert "email" not in ex.entities and "phone" not in ex.entities  # contact details never reach the table
    assert ex.handle_seconds == 540.0
    assert ex.sentiment_end < 0


def blobs(k: int, per: int, dim: int = 48, spread: float = 0.25, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((k, dim))
    X = np.repeat(centres, per, axis=0) + spread * rng.standard_normal((k * per, dim))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X.astype(np.float32), np.repeat(np.arange(k), per)


def test_topic_model_estimates_the_number_of_topics():
    for k in (5, 12):
        X, y = blobs(k, 40, seed=k)
        model = TopicModel().fit(X)
        assert model.n_topics_ == k, model.scores_
        assert adjusted_rand_score(y, model.labels_) > 0.95
        best, dist = nearest(X, model.centroids_)
        assert (best == model.labels_).mean() > 0.95 and dist.max() < 0.6


def test_topic_model_fits_a_sample_and_assigns_the_rest():
    X, y = blobs(6, 120, seed=3)
    model = TopicModel(max_fit=300).fit(X)
    assert len(model.labels_) == len(X) and adjusted_rand_score(y, model.labels_) > 0.95


def test_knn_graph_is_symmetric():
    X, _ = blobs(3, 20)
    A = knn_graph(X, 5)
    assert (A != A.T).nnz == 0 and A.diagonal().sum() == 0


def test_class_tfidf_names_topics_by_what_sets_them_apart():
    docs = ["where is my refund", "refund not received yet", "my refund is late",
            "password reset email missing", "cannot reset my password", "password reset link expired"]
    terms = class_tfidf(docs, [0, 0, 0, 1, 1, 1], 2, top_n=3)
    assert terms[0][0][0].startswith("refund") and "password" in terms[1][0][0]
    assert "zip" in contrast_terms(["zip broke", "zip split open", "the zip is stuck"], ["where is my refund", "zip code change"] * 5)


def test_parents_group_nearby_topics():
    rng = np.random.default_rng(0)
    groups = rng.standard_normal((3, 32))
    C = np.repeat(groups, 4, axis=0) + 0.1 * rng.standard_normal((12, 32))
    C /= np.linalg.norm(C, axis=1, keepdims=True)
    parents = _parents(C)
    assert adjusted_rand_score(np.repeat(np.arange(3), 4), parents) == 1.0
