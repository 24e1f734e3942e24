"""Hand-built conversations for outcome tests: a compact script of turns, as a Transcript or stored for real."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from deskmate.outcomes.transcript import Transcript, Turn

T0 = datetime(2026, 8, 3, 10, 0, tzinfo=UTC)  # a Monday


def turns(script, start: datetime = T0, gap: float = 30.0) -> list[Turn]:
    """script items: ("c", text) customer, ("a", text) agent, ("s", text) system, ("act", name, values) action.

    A trailing number in an item is the gap in seconds before it (default `gap`)."""
    out, at = [], start
    for i, item in enumerate(script, start=1):
        item = list(item)
        wait = item.pop() if isinstance(item[-1], (int, float)) else gap
        at = at + timedelta(seconds=wait)
        if item[0] == "act":
            out.append(Turn(i, "agent", "action", "", item[1], item[2] if len(item) > 2 else {}, at))
        else:
            role = {"c": "customer", "a": "agent", "s": "system"}[item[0]]
            out.append(Turn(i, role, "text", item[1], None, {}, at))
    return out


def transcript(script, *, reason: str | None = None, status: str = "closed", close_after: float = 60.0,
               start: datetime = T0, **kw) -> Transcript:
    ts = turns(script, start)
    end = (ts[-1].at if ts else start) + timedelta(seconds=close_after)
    return Transcript(turns=ts, reason=reason, status=status, started_at=start,
                      ended_at=end if status == "closed" else None, **kw)


def store_conversation(session, *, tenant, script, reason=None, agent_id=None, customer_id=None, start: datetime = T0,
                       close: bool = True, outcome: str | None = None, external_id: str | None = None,
                       close_after: float = 60.0):
    """Create the conversation through the conversations service (and close it through it, firing the hook)."""
    from deskmate.conversations import service
    from deskmate.conversations.models import (
        ConversationCreate,
        ConversationUpdate,
        MessageCreate,
    )

    msgs = []
    for t in turns(script, start):
        if t.kind == "action":
            msgs.append(MessageCreate(role="agent", kind="action", action=t.action, action_values=t.values, created_at=t.at))
        else:
            msgs.append(MessageCreate(role=t.role, text=t.text, created_at=t.at))
    conv = service.create_conversation(session, tenant=tenant, data=ConversationCreate(
        external_id=external_id, reason=reason, agent_id=agent_id, customer_id=customer_id, started_at=start,
        messages=msgs))
    if close:
        last = msgs[-1].created_at if msgs else start
        conv.ended_at = last + timedelta(seconds=close_after)  # kept by the close, which fires the scoring hook
        service.update_conversation(session, conversation=conv, data=ConversationUpdate(status="closed", outcome=outcome))
    return conv


REFUND = ["pull-up-account", "verify-identity", "validate-purchase", "offer-refund"]

HAPPY_REFUND = [
    ("c", "Hi, I want a refund for my order, the jacket doesn't fit"),
    ("a", "Hi, I'm sorry about that! I can help with that. Let me pull up your account."),
    ("act", "pull-up-account", {"customer_name": "Ann Lee"}),
    ("c", "Ann Lee, order 1234"),
    ("act", "verify-identity", {"order_id": "1234", "email": "[EMAIL]"}),
    ("act", "validate-purchase", {"order_id": "1234"}),
    ("act", "offer-refund", {"amount": 94.0, "refund_method": "card"}),
    ("a", "I've issued a refund of $94 to your card. You'll see it within 5-7 business days."),
    ("c", "Perfect, thank you so much!"),
    ("a", "Is there anything else I can help you with today?"),
    ("c", "no that's all, thanks!"),
    ("a", "Thanks for contacting us, Ann. Have a great day!"),
]
