"""What every scorecard criterion reads: the transcript, the procedure, the knowledge used, the tenant's policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from deskmate.outcomes.models import Evidence
from deskmate.outcomes.transcript import Transcript, Turn

Verdict = tuple[str, str, list[Evidence]]  # result (pass / fail / na), note, evidence


@dataclass
class ScoringContext:
    transcript: Transcript
    required_actions: Sequence[str] = ()
    articles: Sequence[tuple[str, str]] = ()  # (title, body) of the knowledge the agent relied on
    tenant_settings: dict = field(default_factory=dict)
    predicted_outcome: str | None = None


def evidence(turn: Turn, limit: int = 300) -> Evidence:
    text = turn.text if turn.kind == "text" else f"[action] {turn.action} {turn.values or ''}".strip()
    return Evidence(seq=turn.seq, text=text[:limit])
