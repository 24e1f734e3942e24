"""Knowledge suggestions: hybrid retrieval over article passages, re-ranked by what resolved similar cases.

Full text (FTS5 bm25 / PostgreSQL ts_rank) and dense (the encoder, through an IVF index) each
return their best passages; reciprocal-rank fusion merges them; each article then keeps its best
passage and gains a prior: how often conversations with the intents we believe this one has
were resolved with that article (the procedure's article, or one agents inserted). The passage
table is kept fresh by a knowledge listener, so a draft published a second ago is found.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from deskmate.assist.fulltext import FullTextIndex, query_terms
from deskmate.assist.models import Passage
from deskmate.assist.passages import split_article
from deskmate.assist.vector_index import IVFIndex

RRF_K = 60
CHECK_SECONDS = 1.0
CANDIDATES = 30
PRIOR_WEIGHT = 0.45


def _next_revision(session: Session, tenant_id: int) -> int:
    return int(session.scalar(select(func.max(Passage.revision)).where(Passage.tenant_id == tenant_id)) or 0) + 1


def sync_article(session: Session, article, *, embeddings: np.ndarray | None = None,
                 revision: int | None = None) -> list[Passage]:
    """Replace an article's passages: old rows deactivated (with a new revision), new rows added if published."""
    fts = FullTextIndex.for_session(session)
    revision = revision or _next_revision(session, article.tenant_id)
    old_ids = list(session.scalars(select(Passage.id).where(Passage.article_id == article.id, Passage.active.is_(True))))
    if old_ids:
        session.execute(update(Passage).where(Passage.id.in_(old_ids)).values(active=False, revision=revision))
        fts.remove(session, old_ids)
    if article.status != "published":
        return []
    texts = split_article(article.title, article.body)
    rows = [
        Passage(tenant_id=article.tenant_id, article_id=article.id, article_version=article.version, position=i,
                title=article.title[:300], text=t, revision=revision, active=True,
                embedding=None if embeddings is None else embeddings[i].astype(np.float32).tobytes())
        for i, t in enumerate(texts)
    ]
    session.add_all(rows)
    session.flush()
    fts.add(session, [(p.id, p.tenant_id, p.title, p.text) for p in rows])
    return rows


_local_changes = [0]  # bumped when this process changes an article: its indexes look at once


def on_article_changed(session: Session, article) -> None:
    """knowledge.service listener: the passage table (and full text) follow every create and update."""
    sync_article(session, article)
    _local_changes[0] += 1


def register_article_listener() -> None:
    from deskmate.knowledge import service as knowledge

    if on_article_changed not in knowledge.article_listeners:
        knowledge.article_listeners.append(on_article_changed)


def rebuild_passages(session: Session, tenant_id: int, encoder, progress=None) -> int:
    """Every published article of the tenant re-split and embedded (for `prepare_workspace`)."""
    from deskmate.knowledge.models import Article

    fts = FullTextIndex.for_session(session)
    revision = _next_revision(session, tenant_id)  # revisions only grow, even across a rebuild
    fts.clear(session, tenant_id)
    session.execute(delete(Passage).where(Passage.tenant_id == tenant_id))
    articles = list(session.scalars(select(Article).where(Article.tenant_id == tenant_id, Article.status == "published")))
    total = 0
    for article in articles:
        texts = split_article(article.title, article.body)
        vectors = encoder.encode(texts) if texts else None
        total += len(sync_article(session, article, embeddings=vectors, revision=revision))
        if progress:
            progress(1)
    return total


class DenseKnowledgeIndex:
    """One tenant's passage vectors in memory, caught up from the table by revision on each query."""

    def __init__(self, tenant_id: int, index: IVFIndex | None = None, watermark: int = 0):
        self.tenant_id = tenant_id
        self.index = index or IVFIndex()
        self.watermark = watermark
        self.meta: dict[int, tuple[int, str, str]] = {}  # passage id -> (article_id, title, text)
        self._lock = threading.Lock()
        self._checked_at = float("-inf")
        self._seen_changes = -1

    def sync(self, session: Session, encoder) -> None:
        """Catch up with the passage table: at once after a change made in this process, else at most
        every CHECK_SECONDS (edits made by another process or worker)."""
        now = time.monotonic()
        if self._seen_changes == _local_changes[0] and now - self._checked_at < CHECK_SECONDS:
            return
        self._checked_at, self._seen_changes = now, _local_changes[0]
        head = session.scalar(select(func.max(Passage.revision)).where(Passage.tenant_id == self.tenant_id)) or 0
        if head < self.watermark and self.meta:
            return
        with self._lock:
            rows = session.execute(
                select(Passage.id, Passage.article_id, Passage.title, Passage.text, Passage.active, Passage.embedding)
                .where(Passage.tenant_id == self.tenant_id, Passage.revision >= self.watermark)
            ).all()
            gone = [r.id for r in rows if not r.active]
            self.index.remove(gone)
            for pid in gone:
                self.meta.pop(pid, None)
            fresh = [r for r in rows if r.active]
            if fresh:
                missing = [r for r in fresh if r.embedding is None]
                encoded = dict(zip((r.id for r in missing), encoder.encode([f"{r.title}\n{r.text}" for r in missing]))) if missing else {}
                vectors = np.stack([encoded[r.id] if r.embedding is None else np.frombuffer(r.embedding, dtype=np.float32)
                                    for r in fresh])
                self.index.add(vectors, [r.id for r in fresh])
                for r in fresh:
                    self.meta[r.id] = (r.article_id, r.title, r.text)
            self.watermark = head + 1

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        with self._lock:
            ids, scores = self.index.search(vector, k)
        return list(zip(ids.tolist(), scores.tolist()))


@dataclass
class ArticleHit:
    article_id: int
    title: str
    passage_id: int
    passage: str
    score: float
    fulltext_rank: int | None
    dense_score: float | None
    prior: float
    prior_support: tuple[int, int] | None = None  # (resolved with it, all) for the top intent
    terms: list[str] = field(default_factory=list)


class KnowledgeRetriever:
    def __init__(self, tenant_id: int, dense: DenseKnowledgeIndex, article_prior: dict | None = None):
        self.tenant_id = tenant_id
        self.dense = dense
        # reason -> {article_id: [resolved conversations linked to it, conversations with the reason]}
        self.article_prior = article_prior or {}

    def suggest(self, session: Session, *, texts: list[str], vector: np.ndarray | None,
                intent_probs: dict[str, float], encoder, k: int = 3) -> list[ArticleHit]:
        terms = query_terms(texts)
        lexical = FullTextIndex.for_session(session).search(session, tenant_id=self.tenant_id, terms=terms,
                                                            limit=CANDIDATES)
        dense: list[tuple[int, float]] = []
        if vector is not None and float(np.linalg.norm(vector)) > 0:
            self.dense.sync(session, encoder)
            dense = self.dense.search(vector, CANDIDATES)
        fused: dict[int, float] = {}
        lexical_rank = {pid: rank for rank, (pid, _) in enumerate(lexical)}
        dense_score = dict(dense)
        for rank, (pid, _) in enumerate(lexical):
            fused[pid] = fused.get(pid, 0.0) + 1.0 / (RRF_K + rank)
        for rank, (pid, _) in enumerate(dense):
            fused[pid] = fused.get(pid, 0.0) + 1.0 / (RRF_K + rank)
        if not fused:
            return []
        meta = self._passage_meta(session, list(fused))
        best_rrf = max(fused.values())
        per_article: dict[int, ArticleHit] = {}
        for pid, rrf in fused.items():
            if pid not in meta:
                continue
            article_id, title, text = meta[pid]
            prior, support = self._prior(article_id, intent_probs)
            score = (1 - PRIOR_WEIGHT) * rrf / best_rrf + PRIOR_WEIGHT * prior
            hit = per_article.get(article_id)
            if hit is None or score > hit.score:
                per_article[article_id] = ArticleHit(article_id, title, pid, text, score, lexical_rank.get(pid),
                                                     dense_score.get(pid), prior, support,
                                                     [t for t in terms if t in text.lower()][:6])
        return sorted(per_article.values(), key=lambda h: -h.score)[:k]

    def _passage_meta(self, session: Session, ids: list[int]) -> dict[int, tuple[int, str, str]]:
        known = {pid: self.dense.meta[pid] for pid in ids if pid in self.dense.meta}
        todo = [pid for pid in ids if pid not in known]
        if todo:
            for pid, aid, title, text in session.execute(
                select(Passage.id, Passage.article_id, Passage.title, Passage.text)
                .where(Passage.id.in_(todo), Passage.active.is_(True))
            ):
                known[pid] = (aid, title, text)
        return known

    def _prior(self, article_id: int, intent_probs: dict[str, float]) -> tuple[float, tuple[int, int] | None]:
        prior, best, best_p = 0.0, None, 0.0
        for reason, p in intent_probs.items():
            linked = self.article_prior.get(reason, {}).get(str(article_id))
            if not linked:
                continue
            resolved, total = linked
            prior += p * (resolved / max(total, 1))
            if p > best_p:
                best, best_p = (int(resolved), int(total)), p
        return min(prior, 1.0), best
