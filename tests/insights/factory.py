"""A small support history written straight into the store: steady reasons for contact over 60 days
plus, in the last days, a product issue that rises from nothing (what the alerts must catch)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from deskmate.conversations.models import Conversation, Message
from deskmate.customers.models import Customer, CustomerRecord

START = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)  # a Monday
DAYS = 60
SPIKE_START = DAYS - 6

REASONS = {
    "password_reset": [
        "I can't reset my password, the reset email never arrives",
        "the password reset link says it expired, I need to log in",
        "I changed my phone and now the reset code goes to my old number",
        "forgot my password and the reset page keeps failing",
    ],
    "refund_status": [
        "where is my refund for the return I sent two weeks ago",
        "I returned the item but the refund still has not reached my card",
        "can you check the status of my refund please",
        "it's been ten days and no refund yet for my return",
    ],
    "late_delivery": [
        "my order has not arrived yet, it was due last week",
        "tracking has not moved for five days, where is my parcel",
        "the delivery is late again, when will my package come",
        "still waiting for my order, the courier never showed up",
    ],
    "cancel_subscription": [
        "please cancel my monthly subscription, it is too expensive",
        "how do I stop the subscription from renewing next month",
        "I want to end my membership plan today",
        "cancel my subscription, I no longer use it",
    ],
    "promo_code": [
        "the discount code says invalid at checkout",
        "my promo code will not apply to the basket",
        "why doesn't the coupon from your newsletter work",
        "checkout rejects the voucher code I got by email",
    ],
}
SPIKE = [
    "the zipper on my Alder Parka broke after two days",
    "Alder Parka zip split open, the teeth came apart",
    "the zip pull fell off my new Alder Parka",
    "zipper on the Alder Parka is jammed and now it's broken",
]
PROCEDURES = {"refund_status": ["pull-up-account", "verify-identity", "check-refund"]}
OUTCOMES = ["resolved", "resolved", "resolved", "unresolved", "escalated"]


def add_conversation(session, tenant_id: int, *, external_id: str, started: datetime, opening: str, reason: str | None,
                     outcome: str, agent_id: int | None = None, customer_id: int | None = None, actions=(),
                     reply: str = "Thanks, let me look into that for you.") -> Conversation:
    conv = Conversation(tenant_id=tenant_id, source="test", external_id=external_id, channel="chat", started_at=started,
                        ended_at=started + timedelta(minutes=6), status="closed", outcome=outcome, reason=reason,
                        agent_id=agent_id, customer_id=customer_id, message_count=3 + len(actions))
    session.add(conv)
    session.flush()
    texts = [("customer", opening), ("agent", reply)]
    texts += [("agent", None, a) for a in actions]
    texts.append(("customer", "ok thanks" if outcome == "resolved" else "this is useless, still not fixed"))
    for seq, item in enumerate(texts, 1):
        at = started + timedelta(minutes=seq)
        if len(item) == 3:
            session.add(Message(tenant_id=tenant_id, conversation_id=conv.id, seq=seq, role="agent", kind="action",
                                text="", action=item[2], created_at=at))
        else:
            session.add(Message(tenant_id=tenant_id, conversation_id=conv.id, seq=seq, role=item[0], kind="text",
                                text=item[1], created_at=at))
    return conv


def build_history(session, tenant_id: int, *, agent_id: int | None = None, seed: int = 3, days: int = DAYS,
                  spike: bool = True) -> dict:
    """~6 conversations a day (fewer at weekends) over `days` days; returns ids by kind."""
    from deskmate.knowledge.models import Procedure

    rng = random.Random(seed)
    gold = Customer(tenant_id=tenant_id, external_id="cust-gold", name="Gold Customer", tier="gold")
    basic = Customer(tenant_id=tenant_id, external_id="cust-basic", name="Basic Customer", tier="basic")
    session.add_all([gold, basic])
    session.flush()
    session.add(CustomerRecord(tenant_id=tenant_id, customer_id=gold.id, kind="order", external_id="ord-1",
                               attributes={"products": ["Alder Parka", "Canvas Tote"]}))
    for reason, actions in PROCEDURES.items():
        session.add(Procedure(tenant_id=tenant_id, reason=reason, name=reason, actions=actions))
    ids: dict[str, list[int]] = {"steady": [], "spike": []}
    n = 0
    for day in range(days):
        base = START + timedelta(days=day)
        per_day = 4 if base.weekday() >= 5 else 7
        for _ in range(per_day):
            reason = rng.choice(list(REASONS))
            outcome = rng.choice(OUTCOMES)
            actions = PROCEDURES.get(reason, [])[: rng.randint(1, 3)] if reason in PROCEDURES else ()
            n += 1
            conv = add_conversation(session, tenant_id, external_id=f"c-{n}", started=base + timedelta(minutes=rng.randint(0, 480)),
                                    opening=rng.choice(REASONS[reason]), reason=reason, outcome=outcome, agent_id=agent_id,
                                    customer_id=rng.choice([gold.id, basic.id]), actions=actions)
            ids["steady"].append(conv.id)
        if spike and day >= SPIKE_START:
            for _ in range(2 + 2 * (day - SPIKE_START)):
                n += 1
                conv = add_conversation(session, tenant_id, external_id=f"c-{n}", started=base + timedelta(minutes=rng.randint(0, 480)),
                                        opening=rng.choice(SPIKE), reason="damaged_item", outcome="unresolved",
                                        agent_id=agent_id, customer_id=gold.id)
                ids["spike"].append(conv.id)
    session.flush()
    return ids
