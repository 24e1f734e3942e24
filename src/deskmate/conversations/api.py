from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from deskmate.accounts.deps import current_user, get_session
from deskmate.accounts.models import User
from deskmate.assist.schemas import MessageWithAssist
from deskmate.conversations import service
from deskmate.conversations.arrival import receive_message
from deskmate.conversations.models import (
    ConversationCreate,
    ConversationDetail,
    ConversationPage,
    ConversationRead,
    ConversationUpdate,
    MessageCreate,
    MessageRead,
)

router = APIRouter(prefix="/conversations", tags=["conversations"])


@router.get("", response_model=ConversationPage)
def list_conversations(
    since: datetime | None = None,
    until: datetime | None = None,
    status: str | None = Query(default=None, pattern="^(open|pending|closed)$"),
    outcome: str | None = Query(default=None, pattern="^(resolved|unresolved|escalated|abandoned)$"),
    label: str | None = Query(default=None, max_length=100),
    reason: str | None = Query(default=None, max_length=100),
    agent_id: int | None = None,
    customer_id: int | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
    user: User = Depends(current_user),
    session: Session = Depends(get_session),
):
    """Conversations, newest first, filtered by time, status, outcome, label, reason, agent or customer."""
    rows, total = service.list_conversations(
        session, tenant_id=user.tenant_id, since=since, until=until, status=status, outcome=outcome, label=label,
        reason=reason, agent_id=agent_id, customer_id=customer_id, limit=limit, offset=offset,
    )
    return ConversationPage(items=[ConversationRead.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)


@router.post("", response_model=ConversationDetail, status_code=201)
def create_conversation(body: ConversationCreate, user: User = Depends(current_user), session: Session = Depends(get_session)):
    """Start a conversation (optionally with its first messages)."""
    conversation = service.create_conversation(session, tenant=user.tenant, data=body, agent_id=None)
    session.refresh(conversation)
    return ConversationDetail.model_validate(conversation)


@router.get("/{conversation_id}", response_model=ConversationDetail)
def get_conversation(conversation_id: int, user: User = Depends(current_user), session: Session = Depends(get_session)):
    """One conversation with its messages and actions."""
    return service.get_conversation(session, tenant_id=user.tenant_id, conversation_id=conversation_id, with_messages=True)


@router.patch("/{conversation_id}", response_model=ConversationRead)
def update_conversation(
    conversation_id: int, body: ConversationUpdate, request: Request, user: User = Depends(current_user),
    session: Session = Depends(get_session),
):
    """Change status, outcome, reason, summary, labels or the assigned agent."""
    conversation = service.get_conversation(session, tenant_id=user.tenant_id, conversation_id=conversation_id)
    return service.update_conversation(session, conversation=conversation, data=body, events=request.app.state.events)


@router.post("/{conversation_id}/messages", response_model=MessageWithAssist, status_code=201)
def append_message(
    conversation_id: int, body: MessageCreate, request: Request,
    assist: bool = Query(default=True, description="Compute the live-assist update for this message."),
    user: User = Depends(current_user), session: Session = Depends(get_session),
):
    """Append a message or an agent action; the answer carries the assist update it caused (skip with ?assist=false)."""
    received = receive_message(session, tenant=user.tenant, conversation_id=conversation_id, data=body, assist=assist,
                               events=request.app.state.events, hub=getattr(request.app.state, "assist_hub", None))
    update = received.payload("assist")
    return MessageWithAssist(message=MessageRead.model_validate(received.message), assist=update and update["update"])
