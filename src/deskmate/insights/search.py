"""Conversation search: full text (SQLite FTS5 bm25 / PostgreSQL tsvector) plus semantic, fused by rank.

Full text finds the exact words ("password", an order number); the encoder finds what a
question means ("could not reset their password after changing phone" matches "lost my old
number, the reset code never arrives"). Both lists are fused by reciprocal rank (RRF, k = 60),
which needs no calibration between bm25 and cosine. Filters narrow the candidate records first,
so the semantic half scans only the rows the user asked about.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from deskmate.errors import InvalidInput
from deskmate.insights.models import InsightRecord, InsightTopic
from deskmate.insights.records import vectors_of

RRF_K = 60
CANDIDATES = 200
MAX_TERMS = 12
SENTIMENT_BANDS = {"negative": (-1.01, -0.2), "neutral": (-0.2, 0.2), "positive": (0.2, 1.01)}
_WORD = re.compile(r"[A-Za-z0-9]+")
_STOP = frozenset("a an the and or of to in on for with my i me we our you your is are was were be been it this that "
                  "who which what when how after before from at by as customers customer could not can cannot".split())


@dataclass
class Filters:
    since: datetime | None = None
    until: datetime | None = None
    topic: int | None = None  # topic number
    reason: str | None = None
    intent: str | None = None
    outcome: str | None = None
    sentiment: str | None = None  # negative / neutral / positive, of the customer's last words
    agent_id: int | None = None
    tier: str | None = None
    channel: str | None = None

    def active(self) -> bool:
        return any(v not in (None, "") for v in self.__dict__.values())

    def apply(self, stmt, session: Session, tenant_id: int):
        r = InsightRecord
        if self.since is not None:
            stmt = stmt.where(r.started_at >= self.since)
        if self.until is not None:
            stmt = stmt.where(r.started_at < self.until)
        if self.topic is not None:
            topic_id = session.scalar(select(InsightTopic.id).where(InsightTopic.tenant_id == tenant_id, InsightTopic.number == self.topic))
            children = list(session.scalars(select(InsightTopic.id).where(InsightTopic.parent_id == topic_id))) if topic_id else []
            stmt = stmt.where(r.topic_id.in_([topic_id, *children] if topic_id else [-1]))
        for column, value in ((r.reason, self.reason), (r.intent, self.intent), (r.outcome, self.outcome),
                              (r.agent_id, self.agent_id), (r.customer_tier, self.tier), (r.channel, self.channel)):
            if value is not None and value != "":
                stmt = stmt.where(column == value)
        if self.sentiment:
            if self.sentiment not in SENTIMENT_BANDS:
                raise InvalidInput(f"sentiment must be one of {', '.join(SENTIMENT_BANDS)}")
            lo, hi = SENTIMENT_BANDS[self.sentiment]
            stmt = stmt.where(r.sentiment_end > lo, r.sentiment_end <= hi)
        return stmt


def query_terms(query: str) -> list[str]:
    terms = []
    for w in _WORD.findall(query.lower()):
        if w not in _STOP and len(w) > 1 and w not in terms:
            terms.append(w)
    return terms[:MAX_TERMS]


def full_text_ids(session: Session, tenant_id: int, query: str, limit: int = CANDIDATES) -> list[int]:
    """Conversation ids ranked by bm25 (SQLite) or ts_rank (PostgreSQL); any query word may match."""
    terms = query_terms(query)
    if not terms:
        return []
    if session.get_bind().dialect.name == "sqlite":
        match = " OR ".join(f'"{t}"' for t in terms)
        sql = text("SELECT d.conversation_id FROM insight_documents_fts f JOIN insight_documents d ON d.id = f.rowid "
                   "WHERE insight_documents_fts MATCH :q AND d.tenant_id = :t ORDER BY bm25(insight_documents_fts) LIMIT :n")
        return [row[0] for row in session.execute(sql, {"q": match, "t": tenant_id, "n": limit})]
    tsq = " | ".join(terms)
    sql = text("SELECT conversation_id FROM insight_documents WHERE tenant_id = :t AND "
               "to_tsvector('english', body) @@ to_tsquery('english', :q) "
               "ORDER BY ts_rank(to_tsvector('english', body), to_tsquery('english', :q)) DESC LIMIT :n")
    return [row[0] for row in session.execute(sql, {"q": tsq, "t": tenant_id, "n": limit})]


_MATRICES: OrderedDict = OrderedDict()
MATRIX_CACHE = 4  # workspaces whose vectors stay in memory (100,000 conversations = 150 MB)


def tenant_matrix(session: Session, tenant_id: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(conversation ids, vectors) of a workspace, reloaded only when a record was added or rebuilt.

    Measured at 100,000 conversations: reading every vector from SQLite took 1.5-3 s a query;
    the cached matrix product takes milliseconds.
    """
    stamp = session.execute(select(func.count(), func.max(InsightRecord.refreshed_at)).where(
        InsightRecord.tenant_id == tenant_id)).one()
    key = (str(session.get_bind().url), tenant_id)
    cached = _MATRICES.get(key)
    if cached is not None and cached[0] == (stamp[0], stamp[1], dim):
        _MATRICES.move_to_end(key)
        return cached[1], cached[2]
    rows = session.execute(select(InsightRecord.conversation_id, InsightRecord.embedding).where(
        InsightRecord.tenant_id == tenant_id, InsightRecord.embedding.is_not(None))).all()
    ids = np.array([r.conversation_id for r in rows], dtype=np.int64)
    X = vectors_of([r.embedding for r in rows], dim)
    _MATRICES[key] = ((stamp[0], stamp[1], dim), ids, X)
    while len(_MATRICES) > MATRIX_CACHE:
        _MATRICES.popitem(last=False)
    return ids, X


def semantic_ids(session: Session, tenant_id: int, query_vector: np.ndarray, allowed: set[int] | None,
                 limit: int = CANDIDATES) -> list[tuple[int, float]]:
    ids, X = tenant_matrix(session, tenant_id, len(query_vector))
    if allowed is not None:
        keep = np.isin(ids, np.fromiter(allowed, dtype=np.int64, count=len(allowed)))
        ids, X = ids[keep], X[keep]
    if len(ids) == 0:
        return []
    sims = X @ query_vector
    best = np.argsort(-sims)[:limit]
    return [(int(ids[i]), float(sims[i])) for i in best]


def search(session: Session, settings, tenant_id: int, query: str, *, mode: str = "hybrid", filters: Filters | None = None,
           limit: int = 20, offset: int = 0, encoder=None) -> dict:
    """Hits (newest-first ties) with their record fields and a link to the conversation."""
    query = (query or "").strip()
    if mode not in ("hybrid", "text", "semantic"):
        raise InvalidInput("mode must be hybrid, text or semantic")
    if not query:
        raise InvalidInput("a search needs a query")
    filters = filters or Filters()
    allowed_ids = None  # None: every conversation of the workspace
    if filters.active():
        stmt = select(InsightRecord.conversation_id).where(InsightRecord.tenant_id == tenant_id)
        allowed_ids = set(session.scalars(filters.apply(stmt, session, tenant_id)))
    fused: dict[int, float] = {}
    similarity: dict[int, float] = {}
    if mode in ("hybrid", "text"):
        ranked = [c for c in full_text_ids(session, tenant_id, query, CANDIDATES * 5)
                  if allowed_ids is None or c in allowed_ids][:CANDIDATES]
        for rank, cid in enumerate(ranked):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
    if mode in ("hybrid", "semantic"):
        from deskmate.nlp.encoder import get_encoder

        vec = (encoder or get_encoder(settings)).encode([query])[0]
        for rank, (cid, sim) in enumerate(semantic_ids(session, tenant_id, vec, allowed_ids)):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
            similarity[cid] = sim
    order = sorted(fused, key=lambda c: -fused[c])
    page = order[offset:offset + limit]
    records = {r.conversation_id: r for r in session.scalars(select(InsightRecord).where(InsightRecord.conversation_id.in_(page)))}
    topics = {t.id: t for t in session.scalars(select(InsightTopic).where(InsightTopic.tenant_id == tenant_id))}
    hits = []
    for cid in page:
        r = records[cid]
        topic = topics.get(r.topic_id)
        hits.append({
            "conversation_id": cid, "score": round(fused[cid], 5), "similarity": round(similarity[cid], 4) if cid in similarity else None,
            "snippet": r.opening_text[:240], "started_at": r.started_at.isoformat(), "reason": r.reason, "intent": r.intent,
            "topic": {"number": topic.number, "label": topic.label} if topic else None, "outcome": r.outcome,
            "sentiment_end": r.sentiment_end, "agent_name": r.agent_name, "customer_tier": r.customer_tier,
            "url": f"/insights/conversations/{cid}", "api_url": f"/conversations/{cid}",
        })
    return {"query": query, "mode": mode, "total": len(order), "limit": limit, "offset": offset, "hits": hits}
