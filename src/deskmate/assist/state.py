"""What assist remembers about one live conversation, updated in O(1) per message.

The conversation context that the reply and action models read is a fixed-size vector built
from running sums (the latest message, a decayed mean of the customer's messages, of the
agent's, and the last action), so turn 40 costs what turn 2 costs. Training uses the same
`ContextAccumulator` over historical conversations, so the models see contexts exactly as
live assist builds them. Turns and the customer's values are the conversation read model's
(`deskmate.conversations.transcript`); a live turn carries its embedding in `Turn.vector` until folded in.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from deskmate.assist.alerts import RiskSignals
from deskmate.conversations.transcript import CustomerView, Turn

__all__ = ["ContextAccumulator", "ConversationState", "CustomerView", "Turn", "turn_text"]

# Weights of the context blocks; the last message dominates what the agent says next, the action
# just taken decides the step after it.
W_LAST, W_CUSTOMER, W_AGENT, W_ACTION = 0.45, 0.25, 0.1, 0.2
DECAY = 0.6
REPEAT_WINDOW = 12  # earlier customer messages compared for repetition


def turn_text(role: str, kind: str, text: str, action: str | None) -> str:
    """The text a turn is embedded as; actions become short phrases so they share the text space."""
    if kind == "action" and action:
        return f"agent action: {action.replace('-', ' ').replace('_', ' ')}"
    return text or ""


class ContextAccumulator:
    """Running context vector: `add(turn, vector)` then `vector()`; cheap to copy for replay."""

    def __init__(self, dim: int):
        self.dim = dim
        self.last = np.zeros(dim, dtype=np.float32)
        self.customer = np.zeros(dim, dtype=np.float32)
        self.agent = np.zeros(dim, dtype=np.float32)
        self.action = np.zeros(dim, dtype=np.float32)
        self.topic = np.zeros(dim, dtype=np.float32)

    def add(self, role: str, kind: str, vector: np.ndarray) -> None:
        self.last = vector
        if kind == "action":
            self.action = vector
        elif role == "customer":
            self.customer = DECAY * self.customer + vector
        elif role == "agent":
            self.agent = DECAY * self.agent + vector

    def vector(self) -> np.ndarray:
        parts = (
            W_LAST * self.last,
            W_CUSTOMER * _unit(self.customer),
            W_AGENT * _unit(self.agent),
            W_ACTION * self.action,
        )
        return _unit(sum(parts))

    def customer_vector(self) -> np.ndarray:
        return _unit(self.customer)

    def add_topic(self, vector: np.ndarray) -> None:
        """A customer message that says something (not "[NAME]" or "ok"): what they need help with."""
        self.topic = DECAY * self.topic + vector

    def topic_vector(self) -> np.ndarray:
        """The knowledge query: the customer's informative messages, the latest weighing most."""
        return _unit(self.topic) if float(np.abs(self.topic).sum()) else self.customer_vector()


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return (v / n).astype(np.float32) if n > 1e-9 else v.astype(np.float32)


@dataclass
class ConversationState:
    conversation_id: int
    tenant_id: int
    customer: CustomerView
    agent_name: str | None
    reason: str | None  # set by the desk or the ticket form; never guessed here
    started_at: datetime | None
    dim: int
    agent_id: int | None = None
    turns: list[Turn] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    sentiments: list[float] = field(default_factory=list)
    customer_texts: list[str] = field(default_factory=list)
    # (seq, vector, text) of the latest customer messages, compared for repetition
    recent_customer: deque = field(default_factory=lambda: deque(maxlen=REPEAT_WINDOW))
    agent_replies: list[np.ndarray] = field(default_factory=list)  # to avoid suggesting what was just said
    entities: dict[str, list[str]] = field(default_factory=dict)  # order_id, account_id, amount, product, ...
    intent_proba: np.ndarray | None = None  # the intent model's distribution over its classes
    intent_turns: list[str | None] = field(default_factory=list)  # label after each customer message
    context: ContextAccumulator | None = None
    signals: RiskSignals = field(default_factory=RiskSignals)
    risk: float | None = None  # escalation risk after the latest customer message
    risk_why: list[str] = field(default_factory=list)
    repeat_at: dict[int, tuple[int, float]] = field(default_factory=dict)  # seq -> (earlier seq, cosine)
    alerts_fired: dict[str, object] = field(default_factory=dict)  # alert key -> Alert (first firing kept)
    knowledge: list = field(default_factory=list)  # last knowledge suggestions, reused until the query changes
    knowledge_key: tuple | None = None
    card: object | None = None  # the ContextCard built once per conversation, re-ranked per message
    last_update: object | None = None
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)  # one message at a time

    def __post_init__(self):
        if self.context is None:
            self.context = ContextAccumulator(self.dim)

    @property
    def last_seq(self) -> int:
        return self.turns[-1].seq if self.turns else 0

    def remember_entity(self, kind: str, value: str) -> None:
        values = self.entities.setdefault(kind, [])
        if value in values:
            values.remove(value)
        values.append(value)  # most recent last
