"""The supervisor floor's view of live conversations: one row each, ranked by risk.

Risk is deliberately simple and explainable to a supervisor: alerts weigh most (by severity),
then how negative the customer is now and how far it fell, then time open.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskmate.accounts.models import User
from deskmate.conversations.models import Conversation
from deskmate.customers.models import Customer
from deskmate.db import utcnow

SEVERITY_WEIGHT = {"critical": 0.5, "warning": 0.3, "info": 0.1}


def risk_score(*, alerts: list[dict], sentiment: list[float], started_at: datetime, now: datetime | None = None) -> float:
    alert_part = min(0.6, sum(SEVERITY_WEIGHT.get(a.get("severity"), 0.1) for a in alerts))
    last = sentiment[-1] if sentiment else 0.0
    fall = (max(sentiment) - last) if sentiment else 0.0
    mood_part = 0.25 * max(0.0, -last) + 0.1 * min(1.0, max(0.0, fall))
    minutes = max(0.0, ((now or utcnow()) - started_at).total_seconds() / 60)
    time_part = 0.05 * min(1.0, minutes / 60)
    return round(min(1.0, alert_part + mood_part + time_part), 3)


def floor_row(conversation: Conversation, *, customer: str | None, agent: str | None, update: dict | None) -> dict:
    update = update or {}
    intent = update.get("intent") or {}
    alerts = [{"kind": a["kind"], "severity": a["severity"], "reason": a["reason"]} for a in update.get("alerts", [])]
    sentiment = list(update.get("sentiment") or [])
    return {
        "conversation_id": conversation.id,
        "subject": conversation.subject or conversation.reason or conversation.channel,
        "customer": customer,
        "agent": agent,
        "agent_id": conversation.agent_id,
        "started_at": conversation.started_at.isoformat(),
        "message_count": conversation.message_count,
        "intent": intent.get("label"),
        "intent_confidence": intent.get("confidence") if intent.get("label") else None,
        "sentiment": sentiment,
        "alerts": alerts,
        "risk": risk_score(alerts=alerts, sentiment=sentiment, started_at=conversation.started_at),
    }


def live_conversations(session: Session, *, tenant_id: int, limit: int = 300) -> list[tuple[Conversation, str | None, str | None]]:
    rows = session.execute(
        select(Conversation, Customer.name, User.name)
        .outerjoin(Customer, Customer.id == Conversation.customer_id)
        .outerjoin(User, User.id == Conversation.agent_id)
        .where(Conversation.tenant_id == tenant_id, Conversation.status.in_(("open", "pending")))
        .order_by(Conversation.started_at.desc())
        .limit(limit)
    )
    return [(c, customer, agent) for c, customer, agent in rows]
