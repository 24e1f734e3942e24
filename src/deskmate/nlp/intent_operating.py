"""The intent's "not sure" answer, set for an operating point a team can state.

A confidence threshold is a trade: every in-scope message withheld is a blank intent for
the agent, every unknown-intent message answered is a wrong one. Picking the cut that
"separates best" chose 0.99 on a public data set and left a quarter of valid messages
blank, and an agent stops looking at a field that is blank that often. So the team states
the trade instead, in words it can check, and the threshold is the highest that keeps it
on held-out calibration data (never the test set):

- `max_withheld`: at most this share of in-scope messages answered "not sure" (default 5%);
- `max_accuracy_drop`: in-scope answered-right at most this far below top-label accuracy
  (default 2 points), i.e. at most this share of messages withheld although the top label was right;
- or `min_oos_recall`: the lowest threshold that answers "not sure" to at least this share
  of (simulated) unknown-intent messages, whatever it costs in withheld messages.

`curve_row` gives one point of the curve (threshold -> withheld, answered-right, OOS recall)
for calibration and for `deskmate intents eval` alike.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from deskmate.errors import InvalidInput

DEFAULT_MAX_WITHHELD = 0.05
DEFAULT_MAX_ACCURACY_DROP = 0.02
# A limit must hold on new messages, not just on the calibration sample: a count k of withheld
# rows counts as k + MARGIN_SE * sqrt(k) (one standard error). On Banking77 (1,500 held-out
# rows) a plain 5% / 2 points on calibration gave 4.7% withheld / 2.2 points on the test set;
# with the margin 3.8% / 1.7 points.
MARGIN_SE = 1.0


@dataclass(frozen=True)
class OperatingPoint:
    max_withheld: float | None = DEFAULT_MAX_WITHHELD
    max_accuracy_drop: float | None = DEFAULT_MAX_ACCURACY_DROP
    min_oos_recall: float | None = None

    @classmethod
    def stated(cls, max_withheld: float | None = None, max_accuracy_drop: float | None = None,
               min_oos_recall: float | None = None) -> "OperatingPoint":
        """The point a team asked for (None: not stated); raises InvalidInput for values that mean nothing."""
        for name, value, top in (("max withheld share", max_withheld, "under 1"),
                                 ("max accuracy drop", max_accuracy_drop, "at most 1"),
                                 ("min out-of-scope recall", min_oos_recall, "at most 1")):
            if value is not None and not (0.0 <= value < 1.0 if top == "under 1" else 0.0 <= value <= 1.0):
                raise InvalidInput(f"{name} must be a share between 0 and 1 ({top}), e.g. 0.05 for 5%; got {value}")
        if min_oos_recall is not None:
            if max_withheld is not None or max_accuracy_drop is not None:
                raise InvalidInput("state either a minimum out-of-scope recall or limits on withheld messages, "
                                   "not both")
            return cls(max_withheld=None, max_accuracy_drop=None, min_oos_recall=min_oos_recall)
        if max_withheld is None and max_accuracy_drop is None:
            return cls()
        return cls(max_withheld=max_withheld, max_accuracy_drop=max_accuracy_drop)

    @classmethod
    def saved(cls, values: dict) -> "OperatingPoint":
        """The point as a model's calibration stores it (`as_dict` leaves out what was not stated)."""
        return cls(**{"max_withheld": None, "max_accuracy_drop": None, **values})

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def describe(self) -> str:
        if self.min_oos_recall is not None:
            return f"out-of-scope recall at least {self.min_oos_recall:.0%}"
        parts = []
        if self.max_withheld is not None:
            parts.append(f"at most {self.max_withheld:.0%} of in-scope messages withheld")
        if self.max_accuracy_drop is not None:
            parts.append(f"answered-right at most {100 * self.max_accuracy_drop:g} points under top-label accuracy")
        return " and ".join(parts)


def curve_row(threshold: float, confidence: np.ndarray, correct: np.ndarray, oos_confidence: np.ndarray) -> dict:
    """In-scope withheld / answered-right and out-of-scope recall / precision at one threshold."""
    answered = confidence >= threshold
    oos_withheld = int((oos_confidence < threshold).sum())
    withheld_total = int((~answered).sum()) + oos_withheld
    share = lambda num, den: float(num / den) if den else None  # noqa: E731
    return {"threshold": float(threshold),
            "in_scope_withheld": share((~answered).sum(), len(confidence)),
            "in_scope_answered_right": share((answered & correct).sum(), len(confidence)),
            "oos_recall": share(oos_withheld, len(oos_confidence)),
            "oos_precision": share(oos_withheld, withheld_total) if len(oos_confidence) else None}


def candidate_thresholds(*confidences: np.ndarray) -> np.ndarray:
    """0, every midpoint between neighbouring observed confidences, and one above them all.

    Midpoints, so that no cut sits exactly on a calibration example.
    """
    seen = np.unique(np.concatenate([np.asarray(c, dtype=float) for c in confidences] + [np.zeros(1)]))
    return np.concatenate([[0.0], (seen[:-1] + seen[1:]) / 2, [(seen[-1] + 1.0) / 2]])


def within_limit(count: np.ndarray, n: int, limit: float) -> np.ndarray:
    """Whether `count` of `n` rows stays within the share `limit`, with the sampling margin."""
    count = np.asarray(count, dtype=float)
    return count + MARGIN_SE * np.sqrt(count) <= limit * n + 1e-9


def choose_operating_threshold(probs: np.ndarray, truth: np.ndarray, oos_confidence: np.ndarray,
                               point: OperatingPoint) -> tuple[float, dict]:
    """The threshold meeting `point` on held-out rows, and what it gives there.

    With limits (withheld share, accuracy drop): the highest threshold within all of them
    (`within_limit`), which buys the most out-of-scope recall the team allows. With a recall target: the lowest
    threshold reaching it. When there are no unknown-intent examples to measure recall on,
    the default limits apply instead (and the stats say so).
    """
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == truth
    oos_confidence = np.asarray(oos_confidence, dtype=float)
    used = point
    if point.min_oos_recall is not None and not len(oos_confidence):
        used = OperatingPoint()
    candidates = candidate_thresholds(confidence, oos_confidence)
    if used.min_oos_recall is not None:
        recall = np.searchsorted(np.sort(oos_confidence), candidates, side="left") / len(oos_confidence)
        threshold = float(candidates[np.flatnonzero(recall >= used.min_oos_recall - 1e-12)[0]])
    else:
        ok = np.ones(len(candidates), dtype=bool)
        for limit, rows in ((used.max_withheld, confidence), (used.max_accuracy_drop, confidence[correct])):
            if limit is not None:
                ok &= within_limit(np.searchsorted(np.sort(rows), candidates, side="left"), len(confidence), limit)
        threshold = float(candidates[np.flatnonzero(ok)[-1]])  # candidates[0] = 0 withholds nothing: always ok
    at = curve_row(threshold, confidence, correct, oos_confidence)
    stats = {"operating_point": point.as_dict(),
             **{k: None if v is None else round(v, 4) for k, v in at.items() if k != "threshold"}}
    if used is not point:
        stats["note"] = "no unknown-intent examples to measure recall on; default limits used"
    return threshold, stats
