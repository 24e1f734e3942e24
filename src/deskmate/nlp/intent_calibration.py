"""How sure the intent model may be: held-out rounds, temperature, and the out-of-scope threshold.

Kept apart from the classifier because it is the part that decides what an agent is shown:
every figure here is fitted on examples the heads did not train on, or on intents they
never saw, so that "90% sure" means right about nine times in ten.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

CALIBRATION_FOLDS = 5
# Error-free held-out rows (common with a few well-separated intents) must not push the temperature to 0.
TEMPERATURES = np.exp(np.linspace(np.log(0.5), np.log(10.0), 50))


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def fit_mix(lp_emb: np.ndarray, lp_text: np.ndarray, truth: np.ndarray, weights: Sequence[float]):
    """(log-loss, text weight, temperature) minimising the held-out log-loss of the mixed heads."""
    best = None
    rows = np.arange(len(truth))
    for w in weights:
        mixed = (1 - w) * lp_emb + w * lp_text
        for t in TEMPERATURES:
            nll = float(-log_softmax(mixed / t)[rows, truth].mean())
            if best is None or nll < best[0] - 1e-9:
                best = (nll, float(w), float(t))
    return best


def stratified_folds(y: np.ndarray, k: int, rng) -> np.ndarray:
    """Fold number per row, each intent dealt round-robin so every fold sees every intent it can."""
    folds = np.zeros(len(y), dtype=int)
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        folds[idx] = (np.arange(len(idx)) + rng.integers(k)) % k
    return folds


def calibration_split(labels: Sequence[str], fraction: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Hold out ~fraction of each intent (at least one when it has 4+ examples) for calibration."""
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    calib = []
    for label in sorted(by_label):
        idx = by_label[label]
        k = int(round(len(idx) * fraction)) if fraction > 0 else 0
        if fraction > 0 and len(idx) >= 4:
            k = max(k, 1)
        calib.extend(rng.permutation(idx)[:k].tolist())
    calib_set = set(calib)
    train = [i for i in range(len(labels)) if i not in calib_set]
    return np.array(train, dtype=int), np.array(sorted(calib), dtype=int)


def choose_threshold(probs: np.ndarray, truth: np.ndarray, oos_confidence: np.ndarray) -> tuple[float, dict]:
    """The confidence cut that best separates right answers from wrong or unknown-intent ones.

    In-scope examples count as handled when answered right, or withheld when they would have
    been wrong; unknown-intent examples count as handled when withheld. The threshold
    maximises the mean of the two rates (only the first when there are no unknown examples).
    """
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == truth
    candidates = np.unique(np.concatenate([confidence, oos_confidence, [0.0]]))
    best = (-1.0, 0.0, 0.0, 0.0)
    for t in candidates:
        known = float(np.where(confidence >= t, correct, ~correct).mean())
        withheld = float((oos_confidence < t).mean()) if len(oos_confidence) else None
        score = known if withheld is None else (known + withheld) / 2
        if score > best[0] + 1e-12:
            best = (score, float(t), known, withheld)
    score, t, known, withheld = best
    # Midway to the next observed confidence: the cut should not sit exactly on a calibration example.
    below = candidates[candidates < t]
    threshold = float((t + below[-1]) / 2) if len(below) else t
    return threshold, {"threshold_score": round(score, 4), "in_scope_handled": round(known, 4),
                       "unknown_withheld": None if withheld is None else round(withheld, 4)}


class HeldOut:
    """Accumulates held-out head log-probabilities by part ("in" scope, "oos" simulated unknown)."""

    def __init__(self):
        self.parts: dict[str, list] = {"in": [], "oos": []}

    def add(self, part: str, lp_emb: np.ndarray, lp_text: np.ndarray, y: np.ndarray) -> None:
        self.parts[part].append((lp_emb, lp_text, y))

    def get(self, part: str):
        chunks = self.parts[part]
        if not chunks:
            return np.zeros((0, 0)), np.zeros((0, 0)), np.zeros(0, dtype=object)
        return tuple(np.concatenate([c[i] for c in chunks]) for i in range(3))
