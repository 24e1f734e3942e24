"""Hand-built conversations for learning tests, stored through the conversations service."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

T0 = datetime(2026, 8, 3, 10, 0, tzinfo=timezone.utc)


def store_conversation(session, *, tenant, script, reason=None, agent_id=None, start: datetime = T0, close: bool = True,
                       outcome: str | None = "resolved", external_id: str | None = None, attributes: dict | None = None):
    """script items: ("c", text) customer, ("a", text) agent, ("act", action) an agent action."""
    from deskmate.conversations import service
    from deskmate.conversations.models import ConversationCreate, ConversationUpdate, MessageCreate

    messages, at = [], start
    for item in script:
        at = at + timedelta(seconds=30)
        if item[0] == "act":
            messages.append(MessageCreate(role="agent", kind="action", action=item[1], created_at=at))
        else:
            messages.append(MessageCreate(role={"c": "customer", "a": "agent"}[item[0]], text=item[1], created_at=at))
    conv = service.create_conversation(session, tenant=tenant, data=ConversationCreate(
        external_id=external_id, reason=reason, agent_id=agent_id, started_at=start, messages=messages))
    if attributes:
        conv.attributes = attributes
    if close:
        conv.ended_at = at + timedelta(seconds=60)
        service.update_conversation(session, conversation=conv, data=ConversationUpdate(status="closed", outcome=outcome))
    return conv


HAPPY_REFUND = [("c", "I was charged twice for my order and I'm really upset"), ("a", "I'm sorry about that, let me look."),
                ("act", "pull-up-account"), ("act", "verify-identity"), ("a", "Thanks, you're verified."),
                ("act", "offer-refund"), ("a", "I've refunded the duplicate charge to your card."),
                ("c", "Great, thank you so much, that's perfect!")]
ANGRY_REFUND = [("c", "I was charged twice for my order"), ("act", "pull-up-account"), ("act", "offer-refund"),
                ("a", "Refund sent."), ("c", "This is useless, I'm furious and I want a manager")]
