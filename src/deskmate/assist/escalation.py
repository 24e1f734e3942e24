"""Escalation risk: how likely this conversation ends escalated, from what the customer has said so far.

A logistic model over the words of the customer's messages so far (TF-IDF, one- and two-word terms:
"manager", "speak to someone", "third time") and the running signals of the conversation (sentiment,
repetition, length). The alert threshold is the lowest at which, on a slice of history the model did
not train on, at least `target_precision` of the conversations it flagged really escalated: an
agent learns to ignore an alarm that is usually wrong. Stored as JSON (vocabulary, idf, weights).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np

from deskmate.assist.alerts import FEATURES
from deskmate.assist.fulltext import STOPWORDS

MIN_FLAGGED = 5


def _analyzer():
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, 2), lowercase=True).build_analyzer()


class EscalationModel:
    def __init__(self, *, target_precision: float = 0.7, min_df: int = 3, C: float = 1.0, seed: int = 0):
        self.target_precision, self.min_df, self.C, self.seed = target_precision, min_df, C, seed
        self.vocabulary_: dict[str, int] = {}
        self.idf_ = np.zeros(0)
        self.coef_: np.ndarray | None = None
        self.intercept_ = 0.0
        self.threshold_ = 1.01  # never fires until history shows a threshold that is precise enough
        self.base_rate_ = 0.0
        self._analyze = None

    def fit(self, texts: list[str], signals: np.ndarray, y: np.ndarray, groups: np.ndarray) -> "EscalationModel":
        """One row per customer message: the customer's text so far, the signals then, and whether that
        conversation ended escalated; `groups` (conversation ids) keep a conversation on one side of the split."""
        from scipy.sparse import csr_matrix, hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        y = np.asarray(y)
        self.base_rate_ = float(y.mean()) if len(y) else 0.0
        if len(set(y.tolist())) < 2 or len(texts) < 20:
            return self
        rng = np.random.default_rng(self.seed)
        ids = np.unique(groups)
        held = set(rng.choice(ids, max(1, len(ids) // 5), replace=False).tolist())
        calib = np.array([g in held for g in groups])
        if len(set(y[~calib].tolist())) < 2:
            return self
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=self.min_df, sublinear_tf=True, dtype=np.float64)
        words = vectorizer.fit_transform([texts[i] for i in np.flatnonzero(~calib)])
        features = hstack([words, csr_matrix(signals[~calib])]).tocsr()
        lr = LogisticRegression(max_iter=2000, C=self.C).fit(features, y[~calib])
        self.vocabulary_ = {t: int(i) for t, i in vectorizer.vocabulary_.items()}
        self.idf_ = vectorizer.idf_.astype(np.float64)
        self.coef_, self.intercept_ = lr.coef_[0].astype(np.float64), float(lr.intercept_[0])
        # Thresholds judged per conversation, as an agent meets them: flagged once, right or wrong once.
        scores = np.array([self.risk(texts[i], signals[i]) for i in np.flatnonzero(calib)])
        conv, truth = groups[calib], y[calib]
        for t in np.arange(0.2, 0.96, 0.05):
            flagged = {c: bool(v) for c, s, v in zip(conv, scores, truth) if s >= t}
            if len(flagged) >= MIN_FLAGGED and np.mean(list(flagged.values())) >= self.target_precision:
                self.threshold_ = round(float(t), 2)
                break
        return self

    def _words(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        if self._analyze is None:
            self._analyze = _analyzer()
        counts = Counter(t for t in self._analyze(text) if t in self.vocabulary_)
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        idx = np.array([self.vocabulary_[t] for t in counts], dtype=np.int64)
        weights = np.array([1.0 + math.log(n) for n in counts.values()]) * self.idf_[idx]
        return idx, weights / np.linalg.norm(weights)

    def risk(self, text: str, signals: np.ndarray) -> float:
        if self.coef_ is None:
            return 0.0
        idx, weights = self._words(text)
        v = len(self.vocabulary_)
        z = float(weights @ self.coef_[idx]) + float(np.asarray(signals) @ self.coef_[v:]) + self.intercept_
        return 1.0 / (1.0 + math.exp(-z))

    def explain(self, text: str, signals: np.ndarray, top: int = 3) -> list[str]:
        """The terms and signals that raise the risk most, for the alert's reason."""
        if self.coef_ is None:
            return []
        idx, weights = self._words(text)
        v = len(self.vocabulary_)
        present = set(idx.tolist())
        terms = {t: i for t, i in self.vocabulary_.items()
                 if i in present and not all(w in STOPWORDS for w in t.split())}  # "this" explains nothing
        contributions = [(f'"{t}"', float(weights[list(idx).index(i)] * self.coef_[i])) for t, i in terms.items()]
        contributions += [(FEATURES[j].replace("_", " "), float(signals[j] * self.coef_[v + j])) for j in range(len(FEATURES))]
        return [name for name, c in sorted(contributions, key=lambda x: -x[1])[:top] if c > 0]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({
            "format": 2, "vocabulary": self.vocabulary_, "idf": self.idf_.tolist(),
            "coef": None if self.coef_ is None else self.coef_.tolist(), "intercept": self.intercept_,
            "threshold": self.threshold_, "base_rate": self.base_rate_, "signals": list(FEATURES),
            "target_precision": self.target_precision}))

    @classmethod
    def load(cls, path: Path) -> "EscalationModel":
        raw = json.loads(path.read_text())
        model = cls(target_precision=raw.get("target_precision", 0.7))
        if raw.get("format") != 2:  # an older file: no text model, never fires
            return model
        model.vocabulary_, model.idf_ = raw["vocabulary"], np.array(raw["idf"])
        model.coef_ = None if raw["coef"] is None else np.array(raw["coef"])
        model.intercept_, model.threshold_, model.base_rate_ = raw["intercept"], raw["threshold"], raw["base_rate"]
        return model
