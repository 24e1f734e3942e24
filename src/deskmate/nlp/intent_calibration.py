"""How sure the intent model may be: held-out rounds and temperature (the threshold: `intent_operating`).

Kept apart from the classifier because it is the part that decides what an agent is shown:
every figure here is fitted on examples the heads did not train on, or on intents they
never saw, so that "90% sure" means right about nine times in ten.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

CALIBRATION_FOLDS = 5
SMALL_SET = 3000  # up to this many examples, calibrate with 5 rounds; beyond, one round of HOLDOUT_ROWS
HOLDOUT_ROWS = 1500
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


def held_out_rounds(model, texts, embeddings, y, rows, rng, progress) -> "HeldOut":
    """Head log-probabilities of rows the heads did not train on, and of intents they never saw.

    Two kinds of round, because they answer different questions. In-scope rounds hold out a
    fold of `rows` and fit the heads on every intent, as the final model will be: their
    confidences set the temperature and the withheld share. (When one round did both, the
    heads had a fifth fewer intents to confuse and were surer than the final model: 5%
    withheld on calibration became 6.8% on the Banking77 test set.) Unknown-intent rounds
    hide a group of intents and predict their examples, for out-of-scope recall. Small sets
    get 5 of each (every intent is unknown once); large ones one of each, because refitting
    the heads costs more than the estimate gains. `model` provides `_fit_heads`,
    `_head_logprobs` and `classes_` (an `IntentClassifier` while it fits).
    """
    if len(texts) <= SMALL_SET:
        rounds, folds = CALIBRATION_FOLDS, stratified_folds(y[rows], CALIBRATION_FOLDS, rng)
    else:
        rounds, folds = 1, np.where(rng.random(len(rows)) < HOLDOUT_ROWS / len(rows), 0, -1)
    classes = rng.permutation(model.classes_)
    # At least two intents must stay known; with fewer than three there is nothing to simulate.
    per_round = 0 if len(classes) < 3 else max(1, min(len(classes) - 2, round(len(classes) / CALIBRATION_FOLDS)))
    out = HeldOut()

    def predict(part: str, keep: np.ndarray, idx: np.ndarray) -> None:
        if len(idx) and len(set(y[keep])) >= 2:
            model._fit_heads([texts[i] for i in keep], embeddings[keep], y[keep])
            out.add(part, *model._head_logprobs([texts[i] for i in idx], embeddings[idx]), y[idx])

    for k in range(rounds):
        held = rows[folds == k]
        predict("in", np.setdiff1d(np.arange(len(y)), held), held)
        progress((2 * k + 1) / (2 * rounds))
        if per_round:
            is_unknown = np.isin(y, classes[k * per_round:(k + 1) * per_round])
            predict("oos", np.flatnonzero(~is_unknown), rows[is_unknown[rows]])
        progress((k + 1) / rounds)
    return out


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
