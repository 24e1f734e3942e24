"""A workspace's past conversations as plain objects, loaded in a few bulk queries.

Training (`pipeline`) and the replay harness read history through this one loader, so the
replayed conversations are shaped exactly like the ones the models learned from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskmate.assist.state import CustomerView

CHUNK = 500


@dataclass
class PastTurn:
    seq: int
    role: str
    kind: str
    text: str
    action: str | None
    values: dict
    at: datetime | None


@dataclass
class PastConversation:
    id: int
    external_id: str
    reason: str | None
    outcome: str | None
    status: str
    started_at: datetime
    customer_id: int | None
    customer: CustomerView
    agent_name: str | None
    agent_id: int | None = None
    turns: list[PastTurn] = field(default_factory=list)

    @property
    def actions(self) -> list[str]:
        return [t.action for t in self.turns if t.kind == "action" and t.action]


def history_ids(session: Session, tenant_id: int, *, closed_only: bool = True) -> list[int]:
    """Conversation ids in time order (the order replay splits training from held-out)."""
    from deskmate.conversations.models import Conversation

    stmt = select(Conversation.id).where(Conversation.tenant_id == tenant_id)
    if closed_only:
        stmt = stmt.where(Conversation.status == "closed")
    return list(session.scalars(stmt.order_by(Conversation.started_at, Conversation.id)))


def load_conversations(session: Session, tenant_id: int, ids: list[int]) -> list[PastConversation]:
    """The conversations with their turns, customers (with records) and agent names, in the order of `ids`."""
    from deskmate.accounts.models import User
    from deskmate.conversations.models import Conversation, Message
    from deskmate.customers.models import Customer, CustomerRecord

    out: dict[int, PastConversation] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        convs = list(session.scalars(select(Conversation).where(Conversation.tenant_id == tenant_id,
                                                                Conversation.id.in_(chunk))))
        customer_ids = {c.customer_id for c in convs if c.customer_id}
        agent_ids = {c.agent_id for c in convs if c.agent_id}
        customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(customer_ids)))} if customer_ids else {}
        records: dict[int, list[dict]] = {}
        if customer_ids:
            for r in session.scalars(select(CustomerRecord).where(CustomerRecord.customer_id.in_(customer_ids))
                                     .order_by(CustomerRecord.created_at, CustomerRecord.id)):
                records.setdefault(r.customer_id, []).append(
                    {"kind": r.kind, "external_id": r.external_id, "status": r.status, "amount": r.amount,
                     "currency": r.currency, "attributes": r.attributes or {}})
        agents = dict(session.execute(select(User.id, User.name).where(User.id.in_(agent_ids))).all()) if agent_ids else {}
        for c in convs:
            cust = customers.get(c.customer_id)
            view = CustomerView(id=cust.id, external_id=cust.external_id, name=cust.name, email=cust.email,
                                phone=cust.phone, tier=cust.tier, records=records.get(cust.id, [])) if cust else CustomerView()
            out[c.id] = PastConversation(c.id, c.external_id, c.reason, c.outcome, c.status, c.started_at, c.customer_id,
                                         view, agents.get(c.agent_id), c.agent_id)
        for m in session.scalars(select(Message).where(Message.conversation_id.in_(chunk))
                                 .order_by(Message.conversation_id, Message.seq)):
            out[m.conversation_id].turns.append(PastTurn(m.seq, m.role, m.kind, m.text or "", m.action,
                                                         m.action_values or {}, m.created_at))
    return [out[i] for i in ids if i in out]
