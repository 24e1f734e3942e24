"""The per-conversation insight table, refreshed in bulk (first run, `--full`) or incrementally.

A row is (re)built when its conversation is new, changed since (`updated_at`), or re-scored by
outcomes since; everything else is left alone, so a nightly refresh costs what changed.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from deskmate.accounts.models import Tenant
from deskmate.conversations.models import Conversation
from deskmate.conversations.transcript import Transcript, load_transcripts
from deskmate.customers.models import CustomerRecord
from deskmate.db import session_scope, utcnow
from deskmate.insights.extract import extract
from deskmate.insights.models import InsightDocument, InsightRecord
from deskmate.knowledge.models import Procedure

BATCH = 400
MAX_PRODUCTS = 5000


@dataclass
class RefreshSummary:
    built: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    assigned: int = 0

    def as_dict(self) -> dict:
        return {"built": self.built, "unchanged": self.unchanged, "assigned": self.assigned,
                "seconds": round(self.seconds, 2)}


def vector_bytes(vec: np.ndarray) -> bytes:
    return np.asarray(vec, dtype=np.float32).tobytes()


def vectors_of(rows: list[bytes | None], dim: int) -> np.ndarray:
    out = np.zeros((len(rows), dim), dtype=np.float32)
    for i, raw in enumerate(rows):
        if raw:
            out[i] = np.frombuffer(raw, dtype=np.float32)
    return out


def _outcome_score_model():
    """The outcomes domain's score table, when that domain is installed."""
    try:
        return importlib.import_module("deskmate.outcomes.models").ConversationScore
    except ModuleNotFoundError:
        return None


def intent_model_for(settings, session: Session, tenant_id: int):
    try:
        intent = importlib.import_module("deskmate.nlp.intent")
    except ModuleNotFoundError:
        return None
    slug = session.get(Tenant, tenant_id).slug
    try:
        return intent.load_workspace_intent_model(settings, slug)
    except Exception:  # a missing or stale model only leaves the intent column empty
        return None


def product_catalogue(session: Session, tenant_id: int):
    from deskmate.nlp.entities import ProductCatalogue

    tenant = session.get(Tenant, tenant_id)
    products: set[str] = {str(p) for p in (tenant.settings or {}).get("products", []) if p}
    for attrs in session.scalars(select(CustomerRecord.attributes).where(CustomerRecord.tenant_id == tenant_id)):
        products.update(str(p) for p in (attrs or {}).get("products", []) if p)
        if len(products) >= MAX_PRODUCTS:
            break
    return ProductCatalogue(sorted(products))


def stale_conversation_ids(session: Session, tenant_id: int, *, full: bool = False) -> list[int]:
    """Conversations whose insight row is missing or older than the conversation (or its outcome score)."""
    if full:
        return list(session.scalars(select(Conversation.id).where(Conversation.tenant_id == tenant_id).order_by(Conversation.id)))
    stmt = (select(Conversation.id)
            .outerjoin(InsightRecord, InsightRecord.conversation_id == Conversation.id)
            .where(Conversation.tenant_id == tenant_id))
    changed = [InsightRecord.id.is_(None), Conversation.updated_at > InsightRecord.source_updated_at]
    score = _outcome_score_model()
    if score is not None:
        stmt = stmt.outerjoin(score, score.conversation_id == Conversation.id)
        changed.append(and_(score.id.is_not(None), score.scored_at > InsightRecord.refreshed_at))
    return list(session.scalars(stmt.where(or_(*changed)).order_by(Conversation.id)))


def conversation_views(session: Session, tenant_id: int, ids: list[int]) -> list[Transcript]:
    """The conversations an insight row is built from, with agent names and customer tiers."""
    return load_transcripts(session, tenant_id, ids)


def build_rows(session: Session, settings, tenant_id: int, views: list[Transcript], *, catalogue,
               procedures: dict[str, list[str]], encoder, intent_model=None) -> list[InsightRecord]:
    """Upsert the insight rows (and searchable documents) of these conversations; returns the rows."""
    ids = [v.conversation_id for v in views]
    score_model = _outcome_score_model()
    scores = ({s.conversation_id: s for s in session.scalars(select(score_model).where(score_model.conversation_id.in_(ids)))}
              if score_model is not None else {})
    existing = {r.conversation_id: r for r in session.scalars(select(InsightRecord).where(InsightRecord.conversation_id.in_(ids)))}
    documents = {d.conversation_id: d for d in session.scalars(select(InsightDocument).where(InsightDocument.conversation_id.in_(ids)))}
    extracted = [extract(v, catalogue=catalogue, procedure=procedures.get(v.reason or ""), score=scores.get(v.conversation_id))
                 for v in views]
    openings = [e.topic_text or v.reason or "" for e, v in zip(extracted, views)]
    vectors = encoder.encode(openings) if views else np.zeros((0, 1), np.float32)
    intents = intent_model.predict_with_confidence([e.opening_text or "" for e in extracted]) if intent_model is not None and views else [None] * len(views)
    now = utcnow()
    rows = []
    for view, ex, vec, intent in zip(views, extracted, vectors, intents):
        score = scores.get(view.conversation_id)
        row = existing.get(view.conversation_id)
        if row is None:
            row = InsightRecord(tenant_id=tenant_id, conversation_id=view.conversation_id)
            session.add(row)
        changed_text = row.opening_text != ex.opening_text
        row.external_id, row.channel, row.status = view.external_id, view.channel, view.status
        row.started_at, row.ended_at = view.started_at, view.ended_at
        row.agent_id, row.agent_name = view.agent_id, view.agent_name
        row.customer_id, row.customer_tier = view.customer_id, view.customer.tier
        row.reason, row.outcome = view.reason, view.outcome
        row.intent = getattr(intent, "label", None)
        row.intent_confidence = getattr(intent, "confidence", None)
        row.products, row.entities = ex.products, ex.entities
        row.sentiment_start, row.sentiment_end, row.sentiment_lowest = ex.sentiment_start, ex.sentiment_end, ex.sentiment_lowest
        row.predicted_outcome = getattr(score, "predicted_outcome", None)
        row.quality_score = getattr(score, "quality_score", None)
        row.handle_seconds = ex.handle_seconds
        row.message_count = len(view.turns)
        row.procedure_steps, row.procedure_done, row.stalled_at = ex.procedure_steps, ex.procedure_done, ex.stalled_at
        row.opening_text = ex.opening_text
        row.embedding = vector_bytes(vec)
        if changed_text:
            row.topic_id, row.topic_distance = None, None  # re-assigned below from the new opening
        row.source_updated_at, row.refreshed_at = view.updated_at, now
        doc = documents.get(view.conversation_id)
        if doc is None:
            session.add(InsightDocument(tenant_id=tenant_id, conversation_id=view.conversation_id, body=ex.document))
        elif doc.body != ex.document:
            doc.body = ex.document
        rows.append(row)
    return rows


def refresh_records(settings, sessionmaker, tenant_id: int, *, full: bool = False, encoder=None,
                    on_progress: Callable[[int, int], None] | None = None, batch_size: int = BATCH) -> RefreshSummary:
    """Bring the insight table up to date, one committed batch at a time (an interrupted run resumes)."""
    from deskmate.insights import topics
    from deskmate.nlp.encoder import get_encoder

    started = time.perf_counter()
    encoder = encoder or get_encoder(settings)
    summary = RefreshSummary()
    with session_scope(sessionmaker) as session:
        todo = stale_conversation_ids(session, tenant_id, full=full)
        total_convs = session.scalar(select(func.count()).select_from(Conversation).where(Conversation.tenant_id == tenant_id))
        catalogue = product_catalogue(session, tenant_id)
        procedures = {p.reason: list(p.actions or []) for p in session.scalars(select(Procedure).where(Procedure.tenant_id == tenant_id))}
        intent_model = intent_model_for(settings, session, tenant_id)
    summary.unchanged = total_convs - len(todo)
    for start in range(0, len(todo), batch_size):
        chunk = todo[start:start + batch_size]
        with session_scope(sessionmaker) as session:
            rows = build_rows(session, settings, tenant_id, conversation_views(session, tenant_id, chunk), catalogue=catalogue,
                              procedures=procedures, encoder=encoder, intent_model=intent_model)
            session.flush()
            summary.assigned += topics.assign_records(session, tenant_id, [r for r in rows if r.topic_id is None])
            summary.built += len(rows)
        if on_progress:
            on_progress(len(chunk), len(todo))
    summary.seconds = time.perf_counter() - started
    return summary
