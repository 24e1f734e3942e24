"""Customer confidence: how the customer's mood moved, how hard they had to work, and one 0-100 score.

The resolution-quality score deliberately ignores handle time: a long conversation that
fixed the problem for a customer who left happy is a good conversation. Its parts and
weights are documented in docs/scoring.md; change them there and here together.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from deskmate.outcomes import language as lang
from deskmate.outcomes.features import ESCALATION_ACTIONS
from deskmate.outcomes.transcript import Transcript, repeated_customer_turns

# Points per part; they sum to 100.
OUTCOME_POINTS, REOPEN_POINTS, SENTIMENT_END_POINTS, SENTIMENT_SHIFT_POINTS, EFFORT_POINTS = 40, 15, 15, 10, 20
EXPECTED_CUSTOMER_MESSAGES = 4  # a plain request, its details, a confirmation, thanks
WAIT_PENALTY_MINUTES = 10  # a 10-minute wait for the agent costs the whole wait share


@dataclass(frozen=True)
class Trajectory:
    start: float | None
    end: float | None
    lowest: float | None
    lowest_seq: int | None
    shift: float | None
    falling: bool


@dataclass(frozen=True)
class Effort:
    customer_messages: int
    total_messages: int
    repeats: int
    repeat_seqs: list[int]
    transfers: int
    max_wait_seconds: float
    mean_wait_seconds: float
    handle_seconds: float | None
    index: float  # 0 (effortless) .. 1 (the customer had to fight for it)

    def as_dict(self) -> dict:
        return asdict(self)


def sentiment_trajectory(t: Transcript) -> Trajectory:
    scores = t.customer_sentiment
    if not scores:
        return Trajectory(None, None, None, None, None, False)
    from deskmate.nlp.sentiment import trajectory

    tr = trajectory(scores)
    return Trajectory(
        round(float(tr.start), 4), round(float(tr.end), 4), round(float(tr.lowest), 4),
        t.customer_turns[int(tr.lowest_index)].seq, round(float(tr.shift), 4), bool(tr.falling),
    )


def customer_effort(t: Transcript) -> Effort:
    cust = t.customer_turns
    repeated = {x.seq for x in repeated_customer_turns(cust)} | {
        x.seq for x in cust if lang.any_match(lang.REPEAT_MARKERS, x.text)
    }
    transfers = sum(1 for x in t.turns if x.role in ("agent", "system") and x.is_text and lang.any_match(lang.TRANSFER, x.text))
    transfers += sum(1 for a in t.actions if a in ESCALATION_ACTIONS)
    waits = t.agent_wait_seconds()
    max_wait = max(waits, default=0.0)
    index = (
        min(0.3, 0.05 * max(0, len(cust) - EXPECTED_CUSTOMER_MESSAGES))
        + min(0.3, 0.15 * len(repeated))
        + min(0.2, 0.1 * transfers)
        + min(0.2, 0.2 * (max_wait / 60.0) / WAIT_PENALTY_MINUTES)
    )
    return Effort(
        customer_messages=len(cust), total_messages=len(t.text_turns), repeats=len(repeated), repeat_seqs=sorted(repeated),
        transfers=transfers, max_wait_seconds=round(max_wait, 1),
        mean_wait_seconds=round(sum(waits) / len(waits), 1) if waits else 0.0,
        handle_seconds=t.handle_seconds, index=round(min(1.0, index), 4),
    )


def resolution_quality(*, p_resolved: float, reopened: bool, trajectory: Trajectory, effort: Effort) -> tuple[float, dict]:
    """One 0-100 score and its parts, each with the points earned, the maximum, and why."""
    end = trajectory.end if trajectory.end is not None else 0.0
    shift = trajectory.shift if trajectory.shift is not None else 0.0
    parts = {
        "outcome": (OUTCOME_POINTS * p_resolved, OUTCOME_POINTS, f"P(resolved) = {p_resolved:.2f}"),
        "no_reopen": (0.0 if reopened else REOPEN_POINTS, REOPEN_POINTS,
                      "the customer came back on the same reason within 7 days" if reopened else "no repeat contact within 7 days"),
        "sentiment_end": (SENTIMENT_END_POINTS * (end + 1) / 2, SENTIMENT_END_POINTS, f"last customer sentiment {end:+.2f}"),
        "sentiment_shift": (SENTIMENT_SHIFT_POINTS * (max(-2.0, min(2.0, shift)) + 2) / 4, SENTIMENT_SHIFT_POINTS,
                            f"sentiment moved {shift:+.2f} from first to last message"),
        "effort": (EFFORT_POINTS * (1 - effort.index), EFFORT_POINTS,
                   f"{effort.customer_messages} customer messages, {effort.repeats} repeats, {effort.transfers} transfers, "
                   f"longest wait {effort.max_wait_seconds / 60:.1f} min"),
    }
    shown = {k: {"points": round(p, 1), "max": m, "detail": d} for k, (p, m, d) in parts.items()}
    return round(sum(p for p, _, _ in parts.values()), 1), shown
