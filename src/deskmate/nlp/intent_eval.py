"""Scoring an intent model on labelled data (shared by `deskmate intents eval` and the benchmark).

Rows whose label means "no known intent" (oos, out_of_scope, none, ...) or that the model
never saw in training are the out-of-scope set: the right answer for them is None.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from deskmate.nlp.intent import IntentClassifier
from deskmate.nlp.intent_data import is_out_of_scope_label


@dataclass
class IntentReport:
    examples: int
    in_scope: int
    accuracy: float | None  # top-1 over in-scope rows, ignoring the threshold (the classic benchmark figure)
    macro_f1: float | None
    answered_accuracy: float | None  # in-scope rows answered with the right label (withheld counts as not)
    in_scope_withheld: float | None
    out_of_scope: int
    oos_recall: float | None  # out-of-scope rows answered "no known intent"
    oos_precision: float | None  # of the rows answered "no known intent", how many were out of scope
    calibration_error: float | None = None  # expected calibration error of the top label, 10 bins, in-scope rows
    mean_confidence: float | None = None
    per_intent: list[dict] = field(default_factory=list)
    confused: list[tuple[str, str, int]] = field(default_factory=list)
    unseen_labels: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


def _safe(num: float, den: float) -> float | None:
    return float(num / den) if den else None


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Mean gap between confidence and accuracy over equal-width confidence bins, weighted by bin size."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            gap += mask.mean() * abs(float(confidence[mask].mean()) - float(correct[mask].mean()))
    return float(gap)


def evaluate(model: IntentClassifier, texts: Sequence[str], labels: Sequence[str], *,
             threshold: float | None = None, batch_size: int = 256) -> IntentReport:
    started = time.perf_counter()
    known = {str(c) for c in model.classes_}
    labels = [str(label) for label in labels]
    is_oos = np.array([is_out_of_scope_label(label) or label not in known for label in labels])
    unseen = sorted({label for label in labels if label not in known and not is_out_of_scope_label(label)})
    predictions = []
    for start in range(0, len(texts), batch_size):
        predictions.extend(model.predict_with_confidence(list(texts[start:start + batch_size]), threshold=threshold))
    top = np.array([p.ranked[0][0] for p in predictions], dtype=object)
    answered = np.array([p.label for p in predictions], dtype=object)
    truth = np.array(labels, dtype=object)
    ins = ~is_oos
    n_in, n_oos = int(ins.sum()), int(is_oos.sum())
    withheld = np.array([a is None for a in answered])
    report = IntentReport(
        examples=len(labels), in_scope=n_in,
        accuracy=_safe((top[ins] == truth[ins]).sum(), n_in),
        macro_f1=None,
        answered_accuracy=_safe((answered[ins] == truth[ins]).sum(), n_in),
        in_scope_withheld=_safe(withheld[ins].sum(), n_in),
        out_of_scope=n_oos,
        oos_recall=_safe(withheld[is_oos].sum(), n_oos),
        oos_precision=_safe((withheld & is_oos).sum(), withheld.sum()) if n_oos else None,
        unseen_labels=unseen,
    )
    if n_in:
        from sklearn.metrics import f1_score, precision_recall_fscore_support

        confidence = np.array([p.confidence for p in predictions])[ins]
        report.mean_confidence = float(confidence.mean())
        report.calibration_error = expected_calibration_error(confidence, top[ins] == truth[ins])

        present = sorted(set(truth[ins]))
        report.macro_f1 = float(f1_score(truth[ins], top[ins], labels=present, average="macro", zero_division=0))
        p, r, f, s = precision_recall_fscore_support(truth[ins], top[ins], labels=present, zero_division=0)
        report.per_intent = sorted(
            ({"intent": label, "precision": float(pi), "recall": float(ri), "f1": float(fi), "support": int(si)}
             for label, pi, ri, fi, si in zip(present, p, r, f, s)),
            key=lambda row: (row["f1"], row["intent"]),
        )
        pairs = Counter((t, str(pred)) for t, pred in zip(truth[ins], top[ins]) if t != pred)
        report.confused = [(t, pred, n) for (t, pred), n in pairs.most_common(10)]
    report.seconds = time.perf_counter() - started
    return report
