"""Scoring an intent model on labelled data (shared by `deskmate intents eval` and the benchmark).

Rows whose label means "no known intent" (oos, out_of_scope, none, ...) or that the model
never saw in training are the out-of-scope set: the right answer for them is None.
Beside the figures at the model's threshold, the report carries the operating curve
(threshold -> in-scope withheld, in-scope answered right, out-of-scope recall), so a team
can see what its stated operating point costs and buys on its own data.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from deskmate.nlp.intent import IntentClassifier
from deskmate.nlp.intent_data import is_out_of_scope_label
from deskmate.nlp.intent_operating import curve_row

CURVE_THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


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
    threshold: float | None = None  # the threshold the figures above were scored at
    operating_point: dict = field(default_factory=dict)  # what the model's threshold was chosen for, if stated
    curve: list[dict] = field(default_factory=list)  # curve_row per threshold, rising; "chosen" marks `threshold`
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


def operating_curve(confidence: np.ndarray, correct: np.ndarray, is_oos: np.ndarray, chosen: float,
                    thresholds: Sequence[float] = CURVE_THRESHOLDS) -> list[dict]:
    """One curve_row per threshold (and the chosen one, marked), thresholds rising."""
    rows = []
    for t in sorted(set(float(x) for x in thresholds) | {float(chosen)}):
        row = curve_row(t, confidence[~is_oos], correct[~is_oos], confidence[is_oos])
        rows.append({**row, "chosen": t == float(chosen)})
    return rows


def evaluate(model: IntentClassifier, texts: Sequence[str], labels: Sequence[str], *,
             threshold: float | None = None, batch_size: int = 256) -> IntentReport:
    started = time.perf_counter()
    threshold = float(model.threshold_ if threshold is None else threshold)
    known = {str(c) for c in model.classes_}
    labels = [str(label) for label in labels]
    is_oos = np.array([is_out_of_scope_label(label) or label not in known for label in labels], dtype=bool)
    unseen = sorted({label for label in labels if label not in known and not is_out_of_scope_label(label)})
    probs = np.vstack([model.predict_proba(list(texts[start:start + batch_size]))
                       for start in range(0, max(len(texts), 1), batch_size)])
    confidence, top = probs.max(axis=1), model.classes_[probs.argmax(axis=1)]
    withheld = confidence < threshold  # as predict_with_confidence answers
    answered = np.where(withheld, None, top)
    truth = np.array(labels, dtype=object)
    ins = ~is_oos
    n_in, n_oos = int(ins.sum()), int(is_oos.sum())
    report = IntentReport(
        examples=len(labels), in_scope=n_in,
        accuracy=_safe((top[ins] == truth[ins]).sum(), n_in),
        macro_f1=None,
        answered_accuracy=_safe((answered[ins] == truth[ins]).sum(), n_in),
        in_scope_withheld=_safe(withheld[ins].sum(), n_in),
        out_of_scope=n_oos,
        oos_recall=_safe(withheld[is_oos].sum(), n_oos),
        oos_precision=_safe((withheld & is_oos).sum(), withheld.sum()) if n_oos else None,
        unseen_labels=unseen, threshold=threshold,
        operating_point=dict(getattr(model, "calibration_", {}).get("operating_point") or {}),
        curve=operating_curve(confidence, top == truth, is_oos, threshold),
    )
    if n_in:
        from sklearn.metrics import f1_score, precision_recall_fscore_support

        report.mean_confidence = float(confidence[ins].mean())
        report.calibration_error = expected_calibration_error(confidence[ins], top[ins] == truth[ins])

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
