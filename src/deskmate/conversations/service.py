"""Conversations and messages, always scoped to one tenant.

Every text that enters the store passes through `redaction_for`, so with
redaction on (the default) no raw PII ever reaches the database or an index.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from deskmate.accounts.models import Tenant, User
from deskmate.conversations.events import Events, events_of, notify_in_transaction
from deskmate.conversations.models import (
    Conversation,
    ConversationCreate,
    ConversationLabel,
    ConversationUpdate,
    Message,
    MessageCreate,
)
from deskmate.customers.models import Customer
from deskmate.db import utcnow
from deskmate.errors import InvalidInput, NotFound

Redactor = Callable[[str], str]


def redaction_for(tenant: Tenant, customer: Customer | None = None) -> Redactor:
    """The tenant's redaction policy as a function of one text (identity when redaction is off)."""
    if not (tenant.settings or {}).get("redact_pii", True):
        return lambda text: text
    from deskmate.nlp.pii import Redactor as PiiRedactor

    names = [customer.name] if customer is not None and customer.name else []
    return PiiRedactor.for_tenant(tenant.settings or {}, names=names).redact


def get_conversation(session: Session, *, tenant_id: int, conversation_id: int, with_messages: bool = False) -> Conversation:
    stmt = select(Conversation).where(Conversation.tenant_id == tenant_id, Conversation.id == conversation_id)
    if with_messages:
        stmt = stmt.options(selectinload(Conversation.messages))
    conversation = session.scalar(stmt)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    return conversation


def list_conversations(
    session: Session,
    *,
    tenant_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    status: str | None = None,
    outcome: str | None = None,
    label: str | None = None,
    reason: str | None = None,
    agent_id: int | None = None,
    customer_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Conversation], int]:
    stmt = select(Conversation).where(Conversation.tenant_id == tenant_id)
    if since:
        stmt = stmt.where(Conversation.started_at >= since)
    if until:
        stmt = stmt.where(Conversation.started_at < until)
    if status:
        stmt = stmt.where(Conversation.status == status)
    if outcome:
        stmt = stmt.where(Conversation.outcome == outcome)
    if reason:
        stmt = stmt.where(Conversation.reason == reason)
    if agent_id is not None:
        stmt = stmt.where(Conversation.agent_id == agent_id)
    if customer_id is not None:
        stmt = stmt.where(Conversation.customer_id == customer_id)
    if label:
        stmt = stmt.where(
            Conversation.id.in_(select(ConversationLabel.conversation_id).where(ConversationLabel.label == label))
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.order_by(Conversation.started_at.desc(), Conversation.id.desc()).limit(limit).offset(offset))
    return list(rows), int(total or 0)


def _check_refs(session: Session, tenant_id: int, *, customer_id: int | None, agent_id: int | None) -> None:
    if customer_id is not None:
        c = session.get(Customer, customer_id)
        if c is None or c.tenant_id != tenant_id:
            raise InvalidInput(f"customer_id: no customer {customer_id}")
    if agent_id is not None:
        u = session.get(User, agent_id)
        if u is None or u.tenant_id != tenant_id:
            raise InvalidInput(f"agent_id: no user {agent_id}")


def set_labels(session: Session, conversation: Conversation, labels: list[str]) -> None:
    wanted = {lab.strip() for lab in labels if lab and lab.strip()}
    for row in list(conversation.labels):
        if row.label not in wanted:
            conversation.labels.remove(row)
    have = {row.label for row in conversation.labels}
    for lab in sorted(wanted - have):
        conversation.labels.append(ConversationLabel(tenant_id=conversation.tenant_id, label=lab[:100]))


def create_conversation(
    session: Session, *, tenant: Tenant, data: ConversationCreate, source: str = "api", agent_id: int | None = None
) -> Conversation:
    customer_id = data.customer_id
    if customer_id is None and data.customer_external_id:
        customer = session.scalar(
            select(Customer).where(Customer.tenant_id == tenant.id, Customer.external_id == data.customer_external_id)
        )
        if customer is None:
            raise InvalidInput(f"customer_external_id: no customer {data.customer_external_id!r}")
        customer_id = customer.id
    agent = data.agent_id if data.agent_id is not None else agent_id
    _check_refs(session, tenant.id, customer_id=customer_id, agent_id=agent)
    conversation = Conversation(
        tenant_id=tenant.id,
        source=source,
        external_id=data.external_id or uuid.uuid4().hex,
        channel=data.channel,
        customer_id=customer_id,
        agent_id=agent,
        subject=data.subject,
        reason=data.reason,
        started_at=data.started_at or utcnow(),
        status="open",
    )
    session.add(conversation)
    session.flush()
    set_labels(session, conversation, data.labels)
    for message in data.messages:
        append_message(session, tenant=tenant, conversation=conversation, data=message)
    return conversation


def append_message(session: Session, *, tenant: Tenant, conversation: Conversation, data: MessageCreate) -> Message:
    """Append one message (redacted per the tenant's policy) at the end of the conversation.

    Numbers it `max(seq) + 1` without a lock: live messages come in through
    `conversations.arrival.receive_message`, which serialises the writers of a conversation first."""
    if conversation.status == "closed":
        raise InvalidInput(f"conversation {conversation.id} is closed; reopen it before adding messages")
    customer = session.get(Customer, conversation.customer_id) if conversation.customer_id else None
    redact = redaction_for(tenant, customer)
    values = {k: (redact(v) if isinstance(v, str) else v) for k, v in (data.action_values or {}).items()}
    seq = (session.scalar(select(func.max(Message.seq)).where(Message.conversation_id == conversation.id)) or 0) + 1
    message = Message(
        tenant_id=tenant.id,
        conversation_id=conversation.id,
        seq=seq,
        role=data.role,
        kind=data.kind,
        text=redact(data.text) if data.text else "",
        action=data.action,
        action_values=values,
        created_at=data.created_at or utcnow(),
    )
    session.add(message)
    conversation.message_count = seq
    conversation.updated_at = utcnow()
    session.flush()
    return message


def update_conversation(session: Session, *, conversation: Conversation, data: ConversationUpdate,
                        events: Events | None = None) -> Conversation:
    """Apply a change; a close fires `conversation_closed` and a changed reason `conversation_relabelled`
    (listeners: `deskmate.plugins`; `events` defaults to the manager bound to the session)."""
    fields = data.model_dump(exclude_unset=True)
    if "agent_id" in fields:
        _check_refs(session, conversation.tenant_id, customer_id=None, agent_id=fields["agent_id"])
    labels = fields.pop("labels", None)
    old_reason = conversation.reason
    for key, value in fields.items():
        setattr(conversation, key, value)
    if fields.get("status") == "closed" and conversation.ended_at is None:
        conversation.ended_at = utcnow()
    if fields.get("status") in ("open", "pending"):
        conversation.ended_at = None
    if labels is not None:
        set_labels(session, conversation, labels)
    session.flush()
    relabelled = bool(old_reason) and bool(fields.get("reason")) and fields["reason"] != old_reason
    if relabelled or fields.get("status") == "closed":
        events = events if events is not None else events_of(session)
        if relabelled:
            notify_in_transaction(events, "conversation_relabelled", session, conversation=conversation,
                                  old_reason=old_reason, new_reason=fields["reason"])
        if fields.get("status") == "closed":
            notify_in_transaction(events, "conversation_closed", session, conversation=conversation)
    return conversation
