"""Evidence per (suggestion kind, reason for contact, key), and what it says about a suggestion.

Each cell counts how often the suggestion was shown, accepted, dismissed, rated down, and the
summed reward of its acceptances (accepted AND the conversation resolved, scaled by the
customer's sentiment shift; see `feedback.reward_for`). Two readings of the same cell:

- click-only: P(accepted | shown), what most suites optimise;
- outcome-aware: the same, plus how much better than its peers' the conversations went when it
  was accepted, E[reward | accepted]. Kept as two terms rather than one P(accepted and went well
  | shown): the reward is a noisy signal and, folded into one rate, it blurred the relevance that
  acceptance measures well (bench/learning_curve.py on the demo: the folded form trailed click-only
  by up to 0.005 on resolution-linked hit rates, the two-term form is level with it).

Next actions read the same cells as counts (`taken`: how often a move was taken at a point, or
taken in a conversation that went well) to update assist's probabilities (`ranking.Ranker`).

Both readings shrink toward the reason's (then the kind's) average with `prior` pseudo-observations,
so one lucky click does not move a ranking. Counts are additive, so online updates are one
`add` per joined row and a retrain is a fresh fold over all rows.
"""

from __future__ import annotations

import math

import numpy as np
from dataclasses import dataclass, field

ANY = "*"
SHOWN, ACCEPTED, REWARD, DISMISSED, RATED_DOWN = range(5)
OBJECTIVES = ("outcome", "clicks")
# measure -> (successes, trials): how often it was taken when shown; how well it went when taken
MEASURES = {"acceptance": (ACCEPTED, SHOWN), "quality": (REWARD, ACCEPTED)}


def _cell() -> list[float]:
    return [0.0, 0.0, 0.0, 0.0, 0.0]


@dataclass
class Evidence:
    """One joined feedback row, reduced to what the stats need."""

    kind: str
    reason: str | None
    key: str | None
    accepted: bool
    reward: float
    dismissed: bool = False
    rated_down: bool = False


@dataclass
class SuggestionStats:
    # kind -> reason (or ANY) -> key (or ANY for the reason's total) -> cell
    cells: dict[str, dict[str, dict[str, list[float]]]] = field(default_factory=dict)
    rows: int = 0

    def add(self, ev: Evidence, sign: float = 1.0) -> None:
        if not ev.key:
            return
        values = (1.0, float(ev.accepted), float(ev.reward), float(ev.dismissed), float(ev.rated_down))
        by_reason = self.cells.setdefault(ev.kind, {})
        for reason in {ev.reason or ANY, ANY}:
            keys = by_reason.setdefault(reason, {})
            for key in (ev.key, ANY):
                cell = keys.setdefault(key, _cell())
                for i, v in enumerate(values):
                    cell[i] += sign * v
        self.rows += int(sign)

    def cell(self, kind: str, reason: str | None, key: str) -> list[float] | None:
        return self.cells.get(kind, {}).get(reason or ANY, {}).get(key)

    def rate(self, cell: list[float] | None, measure: str) -> tuple[float, float]:
        """(successes, trials) of a cell: acceptances per showing, or reward per acceptance."""
        if not cell:
            return 0.0, 0.0
        successes, trials = MEASURES[measure]
        return cell[successes], cell[trials]

    def baseline(self, kind: str, reason: str | None, measure: str) -> float:
        """The average of a suggestion of this kind for this reason (Laplace-smoothed toward the
        kind's average): what a suggestion with no evidence of its own is assumed to do."""
        s_all, n_all = self.rate(self.cell(kind, ANY, ANY), measure)
        kind_mean = (s_all + 1.0) / (n_all + 2.0)
        if reason is None:
            return kind_mean
        s, n = self.rate(self.cell(kind, reason, ANY), measure)
        return (s + 2.0 * kind_mean) / (n + 2.0)

    def posterior(self, kind: str, reason: str | None, key: str, measure: str, prior: float) -> tuple[float, float]:
        """(posterior mean, the reason's baseline) of one suggestion under one measure."""
        base = self.baseline(kind, reason, measure)
        s, n = self.rate(self.cell(kind, reason, key), measure)
        return (s + prior * base) / (n + prior), base

    def taken(self, kind: str, reason: str | None, key: str, measure: str) -> float:
        """How often the suggestion was taken for this reason (acceptance), or taken in a conversation
        that went well (quality: the summed reward)."""
        cell = self.cell(kind, reason, key)
        return cell[MEASURES[measure][0]] if cell else 0.0

    def lift(self, kind: str, key: str, intent_probs: dict[str, float], objective: str, prior: float,
             quality_weight: float = 1.0) -> float:
        """How much better than its peers this suggestion did, in log-odds, mixed over the likely
        reasons (the rest of the probability mass reads the suggestion's evidence across reasons)."""
        terms = [("acceptance", 1.0)] + ([("quality", quality_weight)] if objective == "outcome" else [])

        def value(reason: str) -> float:
            out = 0.0
            for measure, weight in terms:
                mean, base = self.posterior(kind, reason, key, measure, prior)
                out += weight * (_logit(mean) - _logit(base))
            return out

        return float(mix_over_reasons(intent_probs, value))

    # ---- persistence -------------------------------------------------------------------

    def to_json(self) -> dict:
        return {"rows": self.rows, "cells": {k: {r: {key: [round(v, 6) for v in c] for key, c in keys.items()}
                                                  for r, keys in reasons.items()} for k, reasons in self.cells.items()}}

    @classmethod
    def from_json(cls, raw: dict) -> "SuggestionStats":
        return cls(cells={k: {r: {key: list(map(float, c)) for key, c in keys.items()} for r, keys in reasons.items()}
                          for k, reasons in (raw.get("cells") or {}).items()}, rows=int(raw.get("rows", 0)))

    def copy(self) -> "SuggestionStats":
        return SuggestionStats.from_json(self.to_json())

    def summary(self) -> dict[str, dict]:
        out = {}
        for kind, reasons in self.cells.items():
            total = reasons.get(ANY, {}).get(ANY) or _cell()
            out[kind] = {"shown": int(total[SHOWN]), "accepted": int(total[ACCEPTED]), "reward": round(total[REWARD], 2),
                         "keys": len(reasons.get(ANY, {})) - 1, "reasons": len(reasons) - 1}
        return out


def mix_over_reasons(intent_probs: dict[str, float], value):
    """E[value(reason)] under the intent distribution; the probability mass it leaves reads the
    evidence across reasons (ANY). `value` returns a number or a list of numbers (one per candidate)."""
    weights = {reason: p for reason, p in intent_probs.items() if p > 0}
    mass = sum(weights.values())
    if mass < 0.999:
        weights[ANY] = weights.get(ANY, 0.0) + 1.0 - mass
    return sum(p * np.asarray(value(reason), dtype=float) for reason, p in weights.items())


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))
