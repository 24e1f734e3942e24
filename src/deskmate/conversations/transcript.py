"""The one read model of a conversation: plain `Turn`s in a `Transcript`, loaded in bulk, and procedure progress.

Assist (training, replay, the live engine), outcomes (scoring), insights (the analytics row) and
learning (feedback, gap drafts, onboarding) all read conversations as these values, loaded by
`load_transcripts` in a few tenant-scoped queries per 500 conversations, so none of them queries
messages itself and a change in how a message is read is made once. `procedure_progress` is the
one rule for where a conversation stands in its procedure (which steps are done, skipped, next),
with the two ways callers differ (a repeated step, matching in order) as parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy import select
from sqlalchemy.orm import Session

CHUNK = 500  # conversations per query: bounded IN lists on every database


@dataclass
class CustomerView:
    """The customer's values that suggestions may be filled with (and nobody else's)."""

    id: int | None = None
    external_id: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    tier: str | None = None
    records: list[dict] = field(default_factory=list)  # {"kind", "external_id", "status", "amount", "currency"}

    @property
    def first_name(self) -> str | None:
        return self.name.split()[0] if self.name and self.name.split() else None


@dataclass(frozen=True)
class Turn:
    """One message or action. `vector` is the live engine's embedding of it, set only while assist folds it in."""

    seq: int
    role: str  # customer, agent, system
    kind: str  # text, action
    text: str = ""
    action: str | None = None
    values: dict = field(default_factory=dict)
    at: datetime | None = None
    vector: object | None = field(default=None, compare=False, repr=False)

    @property
    def is_text(self) -> bool:
        return self.kind == "text" and bool(self.text.strip())


def turn_of(message) -> Turn:
    """The turn of a stored message (an ORM row or a selected row with the same names)."""
    return Turn(message.seq, message.role, message.kind, message.text or "", message.action,
                dict(message.action_values or {}), message.created_at)


@dataclass(frozen=True)
class Transcript:
    """A conversation as plain values; `outcome` is None when loaded for scoring (the label scorers are judged by)."""

    turns: list[Turn]
    conversation_id: int | None = None
    tenant_id: int | None = None
    external_id: str | None = None
    reason: str | None = None
    outcome: str | None = None
    agent_id: int | None = None
    agent_name: str | None = None
    customer_id: int | None = None
    customer: CustomerView = field(default_factory=CustomerView)
    channel: str = "chat"
    status: str = "closed"
    started_at: datetime | None = None
    ended_at: datetime | None = None
    updated_at: datetime | None = None
    attributes: dict = field(default_factory=dict)

    @property
    def id(self) -> int | None:
        """The conversation's id (the same as `conversation_id`)."""
        return self.conversation_id

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


# ---- procedure progress ----------------------------------------------------------------


@dataclass(frozen=True)
class ProcedureProgress:
    """Where a conversation stands in its procedure: per step, which of the actions taken did it."""

    steps: tuple[str, ...]
    done_at: tuple[int | None, ...]  # per step: index (in the actions taken) of the action that did it
    reached: int  # steps done in order: the longest prefix of the procedure found, in order, in the actions

    @property
    def done(self) -> tuple[bool, ...]:
        return tuple(at is not None for at in self.done_at)

    @property
    def last_done(self) -> int:
        return max((i for i, d in enumerate(self.done) if d), default=-1)

    @property
    def states(self) -> tuple[str, ...]:
        """done / skipped (a later step was taken without it: the order is policy) / left."""
        last = self.last_done
        return tuple("done" if d else ("skipped" if i < last else "left") for i, d in enumerate(self.done))

    @property
    def skipped(self) -> list[str]:
        return [s for s, state in zip(self.steps, self.states) if state == "skipped"]

    @property
    def next_index(self) -> int | None:
        return next((i for i, d in enumerate(self.done) if not d), None)

    @property
    def next(self) -> str | None:
        i = self.next_index
        return self.steps[i] if i is not None else None

    @property
    def checklist(self) -> list[tuple[str, str]]:
        """Each step with its state, the first step not done marked "next"."""
        nxt = self.next_index
        return [(s, "next" if i == nxt else state) for i, (s, state) in enumerate(zip(self.steps, self.states))]

    @property
    def share(self) -> float:
        return sum(self.done) / len(self.steps) if self.steps else 0.0

    @property
    def complete(self) -> bool:
        return bool(self.steps) and all(self.done)

    @property
    def in_order(self) -> bool:
        """The steps done were done in the procedure's order."""
        positions = [at for at in self.done_at if at is not None]
        return positions == sorted(positions)

    @property
    def stalled_at(self) -> str | None:
        """The first step never reached in order (None when the procedure was followed to the end)."""
        return self.steps[self.reached] if self.reached < len(self.steps) else None

    def out_of_order(self) -> list[tuple[int, int]]:
        """(j, i) for each step j done while an earlier step i was not done before it (skipped, or done later)."""
        done_at = self.done_at
        return [(j, i) for j in range(len(self.steps)) if done_at[j] is not None
                for i in range(j) if done_at[i] is None or done_at[i] > done_at[j]]


def procedure_progress(steps: Sequence[str], taken: Sequence[str], *, repeats: str = "each") -> ProcedureProgress:
    """Progress of the actions `taken` (in order) through the procedure's ordered `steps`.

    A step is done by an action of its name anywhere in `taken`. `repeats` says what a step listed
    twice needs: "each" (assist's checklist) a second such action, "first" (outcomes) the first one
    does for both; procedures without repeated steps read the same either way. `reached` (insights'
    stall) matches in order instead: each step must come after the previous one's action.
    """
    if repeats not in ("each", "first"):
        raise ValueError(f"repeats: 'each' or 'first', not {repeats!r}")
    steps = tuple(steps)
    positions: dict[str, list[int]] = {}
    for i, action in enumerate(taken):
        positions.setdefault(action, []).append(i)
    used: dict[str, int] = {}
    done_at: list[int | None] = []
    for step in steps:
        k = used.get(step, 0) if repeats == "each" else 0
        found = positions.get(step, ())
        done_at.append(found[k] if k < len(found) else None)
        used[step] = k + 1
    reached, pos = 0, 0
    for step in steps:
        later = [i for i in positions.get(step, ()) if i >= pos]
        if not later:
            break
        pos, reached = later[0] + 1, reached + 1
    return ProcedureProgress(steps, tuple(done_at), reached)


# ---- loading ---------------------------------------------------------------------------


def conversation_ids(session: Session, tenant_id: int, *, status: str | None = None, since: datetime | None = None,
                     until: datetime | None = None) -> list[int]:
    """The tenant's conversation ids in time order (started_at, id), optionally by status and start time."""
    from deskmate.conversations.models import Conversation

    stmt = select(Conversation.id).where(Conversation.tenant_id == tenant_id)
    if status is not None:
        stmt = stmt.where(Conversation.status == status)
    if since is not None:
        stmt = stmt.where(Conversation.started_at >= since)
    if until is not None:
        stmt = stmt.where(Conversation.started_at < until)
    return list(session.scalars(stmt.order_by(Conversation.started_at, Conversation.id)))


def load_transcripts(session: Session, tenant_id: int, ids: Sequence[int] | None = None, *, status: str | None = None,
                     since: datetime | None = None, until: datetime | None = None, customer_records: bool = False,
                     with_outcome: bool = True) -> list[Transcript]:
    """The tenant's conversations with their turns, customer and agent name, in the order of `ids`.

    Without `ids`, every conversation matching `status` / `since` / `until`, in time order; ids of
    another tenant or of no conversation are left out. `customer_records` adds the customer's
    records (assist fills replies from them); `with_outcome=False` leaves the stored outcome out,
    for scorers that are judged against it.
    """
    if ids is None:
        ids = conversation_ids(session, tenant_id, status=status, since=since, until=until)
    elif status is not None or since is not None or until is not None:
        allowed = set(conversation_ids(session, tenant_id, status=status, since=since, until=until))
        ids = [i for i in ids if i in allowed]
    ids = list(ids)
    found: dict[int, Transcript] = {}
    for start in range(0, len(ids), CHUNK):
        found.update(_load_chunk(session, tenant_id, ids[start:start + CHUNK], customer_records, with_outcome))
    return [found[i] for i in ids if i in found]


def _load_chunk(session: Session, tenant_id: int, chunk: list[int], customer_records: bool,
                with_outcome: bool) -> dict[int, Transcript]:
    from deskmate.accounts.models import User
    from deskmate.conversations.models import Conversation, Message
    from deskmate.customers.models import Customer, CustomerRecord

    convs = session.execute(select(
        Conversation.id, Conversation.tenant_id, Conversation.external_id, Conversation.reason, Conversation.outcome,
        Conversation.agent_id, Conversation.customer_id, Conversation.channel, Conversation.status,
        Conversation.started_at, Conversation.ended_at, Conversation.updated_at, Conversation.attributes,
    ).where(Conversation.tenant_id == tenant_id, Conversation.id.in_(chunk))).all()
    if not convs:
        return {}
    customer_ids = {c.customer_id for c in convs if c.customer_id}
    agent_ids = {c.agent_id for c in convs if c.agent_id}
    records: dict[int, list[dict]] = {}
    if customer_ids and customer_records:
        for r in session.execute(select(CustomerRecord.customer_id, CustomerRecord.kind, CustomerRecord.external_id,
                                        CustomerRecord.status, CustomerRecord.amount, CustomerRecord.currency,
                                        CustomerRecord.attributes)
                                 .where(CustomerRecord.customer_id.in_(customer_ids))
                                 .order_by(CustomerRecord.created_at, CustomerRecord.id)):
            records.setdefault(r.customer_id, []).append(
                {"kind": r.kind, "external_id": r.external_id, "status": r.status, "amount": r.amount,
                 "currency": r.currency, "attributes": r.attributes or {}})
    customers = {r.id: CustomerView(id=r.id, external_id=r.external_id, name=r.name, email=r.email, phone=r.phone,
                                    tier=r.tier, records=records.get(r.id, []))
                 for r in session.execute(select(Customer.id, Customer.external_id, Customer.name, Customer.email,
                                                 Customer.phone, Customer.tier).where(Customer.id.in_(customer_ids)))
                 } if customer_ids else {}
    agents = dict(session.execute(select(User.id, User.name).where(User.id.in_(agent_ids))).all()) if agent_ids else {}
    turns: dict[int, list[Turn]] = {c.id: [] for c in convs}
    for m in session.execute(select(Message.conversation_id, Message.seq, Message.role, Message.kind, Message.text,
                                    Message.action, Message.action_values, Message.created_at)
                             .where(Message.conversation_id.in_(list(turns)))
                             .order_by(Message.conversation_id, Message.seq)):
        turns[m.conversation_id].append(turn_of(m))
    return {c.id: Transcript(
        turns=turns[c.id], conversation_id=c.id, tenant_id=c.tenant_id, external_id=c.external_id, reason=c.reason,
        outcome=c.outcome if with_outcome else None, agent_id=c.agent_id, agent_name=agents.get(c.agent_id),
        customer_id=c.customer_id, customer=customers.get(c.customer_id) or CustomerView(), channel=c.channel or "chat",
        status=c.status, started_at=c.started_at, ended_at=c.ended_at, updated_at=c.updated_at,
        attributes=dict(c.attributes or {}),
    ) for c in convs}


def load_turns(session: Session, *, tenant_id: int, conversation_id: int, after_seq: int = 0,
               before_seq: int | None = None, last: int | None = None) -> list[Turn]:
    """Part of one conversation's turns in order: those after `after_seq` (and before `before_seq`), or the `last` n."""
    from deskmate.conversations.models import Conversation, Message

    own = select(Conversation.id).where(Conversation.id == conversation_id, Conversation.tenant_id == tenant_id)
    stmt = select(Message.conversation_id, Message.seq, Message.role, Message.kind, Message.text, Message.action,
                  Message.action_values, Message.created_at).where(Message.conversation_id == own.scalar_subquery(),
                                                                   Message.seq > after_seq)
    if before_seq is not None:
        stmt = stmt.where(Message.seq < before_seq)
    if last is not None:
        return [turn_of(m) for m in reversed(session.execute(stmt.order_by(Message.seq.desc()).limit(last)).all())]
    return [turn_of(m) for m in session.execute(stmt.order_by(Message.seq))]
