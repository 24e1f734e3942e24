"""Naming topics by their distinctive terms: class-based TF-IDF (as BERTopic does).

All documents of a topic are one "class document"; a term weighs its frequency in the class
times log(1 + average class size / its frequency over all classes), so words every topic uses
("order", "help") sink and the words that set a topic apart rise. The same weighting contrasts
a spike window with its baseline to say which phrases an emerging issue brings.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

# Chat filler and the redaction placeholders carry no topic.
EXTRA_STOP = {"hi", "hello", "hey", "thanks", "thank", "please", "ok", "okay", "yes", "just", "im", "ive", "dont",
              "need", "want", "help", "like", "know", "get", "got", "hey", "can", "could", "would", "email", "phone",
              "card_number", "order_id", "account_id", "name", "address", "iban", "national_id", "username"}
STOP_WORDS = sorted(ENGLISH_STOP_WORDS | EXTRA_STOP)
PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")


def _clean(text: str) -> str:
    return PLACEHOLDER.sub(" ", text or "")


def vectorizer(min_df: int = 1) -> CountVectorizer:
    return CountVectorizer(stop_words=STOP_WORDS, ngram_range=(1, 2), min_df=min_df, token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b",
                           preprocessor=lambda t: _clean(t).lower())


def class_tfidf(docs: Sequence[str], labels: Sequence[int], n_classes: int, top_n: int = 8) -> list[list[tuple[str, float]]]:
    """Top terms (term, weight) for each class 0..n_classes-1; classes without documents get []."""
    labels = np.asarray(labels)
    keep = labels >= 0
    if not keep.any():
        return [[] for _ in range(n_classes)]
    docs = [d for d, k in zip(docs, keep) if k]
    labels = labels[keep]
    try:
        counts = vectorizer(min_df=2 if len(docs) > 200 else 1).fit(docs)
    except ValueError:  # only stop words
        return [[] for _ in range(n_classes)]
    X = counts.transform(docs)
    terms = counts.get_feature_names_out()
    onehot = np.zeros((n_classes, len(docs)), dtype=np.float32)
    onehot[labels, np.arange(len(docs))] = 1.0
    tf = np.asarray((X.T @ onehot.T).T)  # classes x terms
    sizes = tf.sum(1, keepdims=True)
    tf_norm = tf / np.maximum(sizes, 1)
    avg_words = max(float(sizes.mean()), 1.0)
    idf = np.log1p(avg_words / np.maximum(tf.sum(0), 1))
    weights = tf_norm * idf
    out = []
    for c in range(n_classes):
        row = weights[c]
        if not row.any():
            out.append([])
            continue
        best = np.argsort(-row)[: top_n * 2]
        picked = _without_nested([(str(terms[i]), float(row[i])) for i in best if row[i] > 0])
        out.append(picked[:top_n])
    return out


def _without_nested(ranked: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Drop a unigram inside a better-ranked bigram ("refund" under "refund status") and vice versa."""
    kept: list[tuple[str, float]] = []
    for term, weight in ranked:
        words = set(term.split())
        kept_words = {w for k, _ in kept for w in k.split()}
        if words <= kept_words:
            continue
        kept.append((term, weight))
    return kept


def label_for(terms: Sequence[tuple[str, float]], fallback: str) -> str:
    if not terms:
        return fallback
    return " / ".join(t for t, _ in terms[:3])


def contrast_terms(window_docs: Sequence[str], baseline_docs: Sequence[str], top_n: int = 8) -> list[str]:
    """Phrases the spike window uses far more than the baseline: the evidence an alert quotes."""
    if not window_docs:
        return []
    labels = [0] * len(window_docs) + [1] * len(baseline_docs)
    ranked = class_tfidf(list(window_docs) + list(baseline_docs), labels, 2, top_n=top_n)
    return [t for t, _ in ranked[0]]
