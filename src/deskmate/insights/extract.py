"""From one conversation to one structured row: pure functions over plain values, no database.

Kept apart from the store so the 100,000-conversation benchmark and the bulk refresh run the
same code, and so each field can be tested on a hand-written transcript (a
`deskmate.conversations.transcript.Transcript`, whatever store or file it came from).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

from deskmate.conversations.transcript import Transcript, Turn, procedure_progress

# Only these entity kinds reach the record: contact details (e-mail, phone, username) are personal
# data that an exported analytics table has no business carrying.
RECORD_ENTITY_KINDS = ("order_id", "account_id", "amount", "date", "product")
OPENING_CHARS = 400  # the reason for contact is almost always in the customer's first words
MAX_ENTITY_VALUES = 10
DOCUMENT_CHARS = 20_000


@dataclass(slots=True)
class Extracted:
    opening_text: str
    topic_text: str  # the opening with product names masked: what topics are discovered from
    document: str
    products: list[str]
    entities: dict[str, list]
    sentiment_start: float | None
    sentiment_end: float | None
    sentiment_lowest: float | None
    handle_seconds: float | None
    procedure_steps: int | None
    procedure_done: int | None
    stalled_at: str | None
    extra: dict = field(default_factory=dict)


def opening_text(turns: Sequence[Turn], limit: int = OPENING_CHARS) -> str:
    """The customer's first words: their messages until ~60 characters, 3 messages, or an agent's reply to them.

    A bare "hi" is not a reason, so messages accumulate; but once the agent has answered what the
    customer said, later messages ("ok thanks", "still not fixed") are the conversation, not why it began.
    """
    parts: list[str] = []
    size = 0
    for turn in turns:
        if turn.role == "agent" and turn.kind == "text" and size >= 20:
            break
        if turn.role != "customer" or turn.kind != "text" or not turn.text.strip():
            continue
        parts.append(turn.text.strip())
        size += len(parts[-1])
        if size >= 60 or len(parts) >= 3:
            break
    return " ".join(parts)[:limit]


def document_text(view: Transcript) -> str:
    """Everything said (not the actions), for full-text search."""
    body = "\n".join(t.text for t in view.turns if t.kind == "text" and t.text)
    return body[:DOCUMENT_CHARS]


def handle_seconds(view: Transcript) -> float | None:
    times = [t.at for t in view.turns if t.at is not None]
    start = view.started_at or (min(times) if times else None)
    end = view.ended_at or (max(times) if times else None)
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def entity_summary(entities: Iterable, kinds: Sequence[str] = RECORD_ENTITY_KINDS) -> tuple[list[str], dict[str, list]]:
    found: dict[str, list] = {}
    for ent in entities:
        if ent.kind not in kinds:
            continue
        value = ent.value
        if ent.kind == "amount" and isinstance(value, dict):
            value = value.get("amount")
        values = found.setdefault(ent.kind, [])
        if value not in values and len(values) < MAX_ENTITY_VALUES:
            values.append(value)
    products = [str(p) for p in found.get("product", [])]
    return products, found


def mask_products(text: str, catalogue, reference=None) -> str:
    """Replace catalogue products by the word "product".

    Measured on the demo workspace: unmasked, the encoder groups "exchange the Flannel Overshirt"
    with other overshirt talk rather than with other exchanges, so topics split by product. The
    reason for contact is the topic; the product is its own dimension (entities, product trends).
    """
    from deskmate.nlp.entities import extract_entities

    spans = [e for e in extract_entities(text, catalogue, reference) if e.kind == "product"]
    for ent in sorted(spans, key=lambda e: -e.start):
        text = text[:ent.start] + "product" + text[ent.end:]
    return text


def customer_sentiment(turns: Sequence[Turn]) -> tuple[float | None, float | None, float | None]:
    from deskmate.nlp.sentiment import score_message, trajectory

    scores = [score_message(t.text).score for t in turns if t.role == "customer" and t.kind == "text" and t.text]
    if not scores:
        return None, None, None
    traj = trajectory(scores)
    return traj.start, traj.end, traj.lowest


def extract(view: Transcript, *, catalogue=(), procedure: Sequence[str] | None = None,
            score=None) -> Extracted:
    """One conversation's fields; `score` (an outcomes row) supplies sentiment when it exists."""
    from deskmate.nlp.entities import extract_entities

    customer_text = " \n".join(t.text for t in view.turns if t.role == "customer" and t.kind == "text" and t.text)
    reference = view.started_at.date() if view.started_at else None
    products, entities = entity_summary(extract_entities(customer_text, catalogue, reference))
    if score is not None and score.sentiment_start is not None:
        sentiment = (score.sentiment_start, score.sentiment_end, score.sentiment_lowest)
    else:
        sentiment = customer_sentiment(view.turns)
    progress = procedure_progress(procedure, view.actions) if procedure else None
    opening = opening_text(view.turns)
    return Extracted(
        opening_text=opening,
        topic_text=mask_products(opening, catalogue, reference) if products else opening,
        document=document_text(view),
        products=products,
        entities=entities,
        sentiment_start=sentiment[0],
        sentiment_end=sentiment[1],
        sentiment_lowest=sentiment[2],
        handle_seconds=(score.handle_seconds if score is not None and score.handle_seconds is not None
                        else handle_seconds(view)),
        # Steps done in order, and the first step never reached: where a conversation stalls in its procedure.
        procedure_steps=len(progress.steps) if progress else None,
        procedure_done=progress.reached if progress else None,
        stalled_at=progress.stalled_at if progress else None,
    )
