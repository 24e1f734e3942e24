"""A conversation as the scorers read it: plain turns, the customer's sentiment per message, timing.

Built once per conversation and shared by the resolution model, the confidence score, the
scorecard and the summary, so sentiment is computed once however many scorers read it.
Nothing here reads `Conversation.outcome`: that label is what the scorers are judged against.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from deskmate.outcomes.language import words


@dataclass(frozen=True)
class Turn:
    seq: int
    role: str  # customer, agent, system
    kind: str  # text, action
    text: str = ""
    action: str | None = None
    values: dict = field(default_factory=dict)
    at: datetime | None = None

    @property
    def is_text(self) -> bool:
        return self.kind == "text" and bool(self.text.strip())


@dataclass
class Transcript:
    turns: list[Turn]
    conversation_id: int | None = None
    tenant_id: int | None = None
    reason: str | None = None
    agent_id: int | None = None
    customer_id: int | None = None
    channel: str = "chat"
    status: str = "closed"
    started_at: datetime | None = None
    ended_at: datetime | None = None
    attributes: dict = field(default_factory=dict)

    @classmethod
    def from_conversation(cls, conversation, messages: Iterable | None = None) -> Transcript:
        rows = conversation.messages if messages is None else messages
        turns = [
            Turn(m.seq, m.role, m.kind, m.text or "", m.action, dict(m.action_values or {}), m.created_at)
            for m in sorted(rows, key=lambda m: m.seq)
        ]
        return cls(
            turns=turns, conversation_id=conversation.id, tenant_id=conversation.tenant_id, reason=conversation.reason,
            agent_id=conversation.agent_id, customer_id=conversation.customer_id, channel=conversation.channel or "chat",
            status=conversation.status, started_at=conversation.started_at, ended_at=conversation.ended_at,
            attributes=dict(conversation.attributes or {}),
        )

    # ---- views -------------------------------------------------------------------

    @cached_property
    def customer_turns(self) -> list[Turn]:
        return [t for t in self.turns if t.role == "customer" and t.is_text]

    @cached_property
    def agent_turns(self) -> list[Turn]:
        return [t for t in self.turns if t.role == "agent" and t.is_text]

    @cached_property
    def action_turns(self) -> list[Turn]:
        return [t for t in self.turns if t.kind == "action" and t.action]

    @cached_property
    def text_turns(self) -> list[Turn]:
        return [t for t in self.turns if t.is_text and t.role in ("customer", "agent")]

    @property
    def actions(self) -> list[str]:
        return [t.action for t in self.action_turns]

    @cached_property
    def customer_sentiment(self) -> list[float]:
        """One score in [-1, 1] per customer text turn (deskmate.nlp.sentiment)."""
        if not self.customer_turns:
            return []
        from deskmate.nlp.sentiment import score_message

        return [float(score_message(t.text).score) for t in self.customer_turns]

    # ---- timing --------------------------------------------------------------------

    @cached_property
    def last_activity(self) -> datetime | None:
        stamps = [t.at for t in self.turns if t.at is not None]
        return max(stamps) if stamps else None

    @property
    def handle_seconds(self) -> float | None:
        end = self.ended_at or self.last_activity
        start = self.started_at or (self.turns[0].at if self.turns and self.turns[0].at else None)
        if start is None or end is None:
            return None
        return max(0.0, (end - start).total_seconds())

    def silence_after_last(self) -> float:
        """Seconds between the last message and the close: a customer who stopped answering leaves a gap."""
        if self.ended_at is None or self.last_activity is None:
            return 0.0
        return max(0.0, (self.ended_at - self.last_activity).total_seconds())

    def agent_wait_seconds(self) -> list[float]:
        """For each run of customer messages, how long the customer waited for the agent's next message or action."""
        waits: list[float] = []
        waiting_since: datetime | None = None
        for t in self.turns:
            if t.at is None:
                continue
            if t.role == "customer" and t.is_text:
                waiting_since = waiting_since or t.at
            elif t.role == "agent" and waiting_since is not None:
                waits.append(max(0.0, (t.at - waiting_since).total_seconds()))
                waiting_since = None
        return waits

    def turn(self, seq: int) -> Turn | None:
        return next((t for t in self.turns if t.seq == seq), None)


def repeated_customer_turns(turns: Sequence[Turn], threshold: float = 0.6) -> list[Turn]:
    """Customer messages that restate an earlier one (word overlap), i.e. the customer had to say it twice."""
    seen: list[set[str]] = []
    repeats: list[Turn] = []
    for t in turns:
        bag = {w for w in words(t.text) if len(w) > 2}
        if len(bag) >= 4 and any(len(bag & prev) / len(bag | prev) >= threshold for prev in seen):
            repeats.append(t)
        seen.append(bag)
    return repeats
