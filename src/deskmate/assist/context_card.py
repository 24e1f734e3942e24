"""The context card: who the customer is and what of theirs matters to this conversation, ranked.

Loaded once when assist first sees a conversation (one query per table); after that each
message only re-ranks the records in memory: a record the conversation mentions goes first,
then records that are open, then recent ones; only the top few are shown.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskmate.assist.schemas import ContextCard, PastContact, RecordCard
from deskmate.assist.state import CustomerView

SHOWN_RECORDS = 4
SHOWN_CONTACTS = 3
CLOSED_STATUSES = {"closed", "cancelled", "canceled", "refunded", "returned", "resolved", "inactive", "expired", "delivered"}
KIND_WORDS = {"order": ("order", "shipping", "refund", "return", "delivery", "purchase", "item", "package"),
              "account": ("account", "password", "login", "username", "profile", "address", "email"),
              "subscription": ("subscription", "membership", "plan", "renew", "club", "billing"),
              "case": ("case", "ticket", "complaint")}


def load_customer(session: Session, *, tenant_id: int, customer_id: int | None,
                  before: datetime | None, exclude_conversation: int | None) -> tuple[CustomerView, ContextCard]:
    """The customer's values (for filling replies) and the base card, from the store."""
    from deskmate.conversations.models import Conversation
    from deskmate.conversations.transcript import load_transcripts
    from deskmate.customers.models import Customer, CustomerRecord

    if customer_id is None:
        return CustomerView(), ContextCard(notes=["customer not identified yet"])
    customer = session.get(Customer, customer_id)
    if customer is None or customer.tenant_id != tenant_id:
        return CustomerView(), ContextCard(notes=["customer not identified yet"])
    records = list(session.scalars(select(CustomerRecord).where(CustomerRecord.customer_id == customer_id)
                                   .order_by(CustomerRecord.created_at, CustomerRecord.id)))
    view = CustomerView(
        id=customer.id, external_id=customer.external_id, name=customer.name, email=customer.email,
        phone=customer.phone, tier=customer.tier,
        records=[{"kind": r.kind, "external_id": r.external_id, "status": r.status, "amount": r.amount,
                  "currency": r.currency, "attributes": r.attributes or {}, "created_at": r.created_at} for r in records],
    )
    past_q = select(Conversation).where(Conversation.tenant_id == tenant_id, Conversation.customer_id == customer_id)
    if before is not None:
        past_q = past_q.where(Conversation.started_at < before)
    if exclude_conversation is not None:
        past_q = past_q.where(Conversation.id != exclude_conversation)
    past = list(session.scalars(past_q.order_by(Conversation.started_at.desc()).limit(20)))
    lifetime = None
    if past:
        from deskmate.nlp.sentiment import score_message

        recent = load_transcripts(session, tenant_id, sorted(c.id for c in past[:5]))
        texts = [t.text for r in recent for t in r.turns if t.role == "customer" and t.kind == "text"][:60]
        if texts:
            lifetime = round(sum(score_message(t).score for t in texts) / len(texts), 3)
    card = ContextCard(
        customer_id=customer.id, external_id=customer.external_id, name=customer.name, tier=customer.tier,
        email=customer.email, phone=customer.phone, contacts_total=len(past), lifetime_sentiment=lifetime,
        last_contacts=[PastContact(conversation_id=c.id, started_at=c.started_at, reason=c.reason, outcome=c.outcome,
                                   summary=(c.summary or None) and c.summary[:200]) for c in past[:SHOWN_CONTACTS]],
        notes=_notes(customer.tier, past, before),
    )
    return view, card


def _notes(tier: str | None, past: list, before: datetime | None) -> list[str]:
    notes = []
    if tier and tier.lower() in ("gold", "platinum", "vip", "premium"):
        notes.append(f"{tier} member")
    if past:
        ref = before or past[0].started_at
        recent = [c for c in past if c.started_at >= ref - timedelta(days=7)]
        if len(recent) >= 2:
            notes.append(f"contact number {len(recent) + 1} in 7 days")
        if past[0].outcome in ("escalated", "unresolved", "abandoned"):
            notes.append(f"last contact {past[0].outcome} ({past[0].reason or 'no reason recorded'})")
        reasons = Counter(c.reason for c in past if c.reason)
        if reasons and reasons.most_common(1)[0][1] >= 2:
            reason, n = reasons.most_common(1)[0]
            notes.append(f"{n} earlier contacts about {reason}")
    return notes


def rank_records(view: CustomerView, entities: dict[str, list[str]], intent: str | None) -> list[RecordCard]:
    """Records that matter now: mentioned > matching the intent > open > recent."""
    mentioned = {v.lower() for kind in ("order_id", "account_id") for v in entities.get(kind, [])}
    products = {p.lower() for p in entities.get("product", [])}
    intent_words = (intent or "").lower().replace("-", "_").split("_")
    cards = []
    n = len(view.records)
    for i, r in enumerate(view.records):
        score, why = 0.2 * (i + 1) / max(n, 1), "recent"
        status = (r.get("status") or "").lower()
        if status and status not in CLOSED_STATUSES:
            score, why = score + 1.0, f"open ({status})"
        if any(w in KIND_WORDS.get(r["kind"], ()) for w in intent_words):
            score, why = score + 1.5, f"fits the intent ({intent})"
        items = [str(p).lower() for p in (r.get("attributes") or {}).get("products", [])]
        if products and any(p in item or item in p for p in products for item in items):
            score, why = score + 2.5, "its product is mentioned"
        if r["external_id"].lower() in mentioned:
            score, why = score + 4.0, "mentioned in this conversation"
        detail = ", ".join(str(p) for p in (r.get("attributes") or {}).get("products", [])[:3]) or None
        cards.append(RecordCard(kind=r["kind"], external_id=r["external_id"], status=r.get("status"),
                                amount=r.get("amount"), currency=r.get("currency"), detail=detail, why=why,
                                score=round(score, 3)))
    cards.sort(key=lambda c: -c.score)
    return cards[:SHOWN_RECORDS]
