"""Topics in the store: full re-fit (a scheduled batch job), incremental assignment, stable ids, hierarchy.

A re-fit matches each new cluster to the previous topics by centroid similarity (Hungarian
assignment, at least MATCH_SIMILARITY): a matched cluster keeps the old topic's row and number,
so charts and alerts stay comparable; unmatched old topics are retired, new ones get new numbers.
Between re-fits, a new conversation joins its nearest topic when it lies within that topic's
radius (the 95th percentile of its members' distances), else it waits in the unassigned pool
that new-topic detection watches.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.optimize import linear_sum_assignment
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from deskmate.errors import NotFound
from deskmate.insights.clustering import TopicModel, nearest, row_normalise
from deskmate.insights.models import InsightRecord, InsightTopic, InsightTopicFit
from deskmate.insights.naming import Wording, class_tfidf, name_topics
from deskmate.insights.records import vector_bytes, vectors_of

MATCH_SIMILARITY = 0.85
MIN_TOPIC_SIZE = 3
RADIUS_QUANTILE = 0.95
RADIUS_SLACK = 1.1  # a newcomer a little beyond the farthest usual member still belongs
# Floor on a topic's radius: a topic fitted on near-identical messages (macros, templates) would
# otherwise refuse every paraphrase. Measured on Banking77 with MiniLM: utterances of one intent lie
# within cosine distance 0.20 (median) / 0.38 (90th percentile) of their intent's centre.
MIN_RADIUS = 0.3


@dataclass
class FitSummary:
    conversations: int
    topics: int
    kept: int
    created: int
    retired: int
    parents: int
    unassigned: int
    seconds: float
    scores: dict

    def as_dict(self) -> dict:
        return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def _centroid(raw: bytes | None) -> np.ndarray | None:
    return np.frombuffer(raw, dtype=np.float32) if raw else None


def active_topics(session: Session, tenant_id: int, level: int = 1) -> list[InsightTopic]:
    return list(session.scalars(select(InsightTopic).where(InsightTopic.tenant_id == tenant_id, InsightTopic.level == level,
                                                           InsightTopic.status == "active").order_by(InsightTopic.number)))


def assign_records(session: Session, tenant_id: int, records: list[InsightRecord]) -> int:
    """Nearest topic within its radius, else unassigned; returns how many found a topic."""
    topics = [t for t in active_topics(session, tenant_id) if t.centroid]
    if not topics or not records:
        return 0
    C = np.stack([_centroid(t.centroid) for t in topics])
    radii = np.array([(t.radius or 1.0) * RADIUS_SLACK for t in topics])
    X = vectors_of([r.embedding for r in records], C.shape[1])
    best, dist = nearest(X, C)
    assigned = 0
    for rec, b, d in zip(records, best, dist):
        ok = rec.embedding is not None and d <= radii[b]
        rec.topic_id = topics[b].id if ok else None
        rec.topic_distance = float(d)
        assigned += int(ok)
    return assigned


def _match(old: list[InsightTopic], C: np.ndarray) -> dict[int, InsightTopic]:
    """New cluster index -> the old topic it continues."""
    olds = [t for t in old if t.centroid]
    if not olds or len(C) == 0:
        return {}
    sims = C @ np.stack([_centroid(t.centroid) for t in olds]).T
    r, c = linear_sum_assignment(-sims)
    return {int(i): olds[j] for i, j in zip(r, c) if sims[i, j] >= MATCH_SIMILARITY}


def _parents(C: np.ndarray) -> np.ndarray:
    """Group topic centroids into parents (average-linkage, cut at the widest gap in merge heights)."""
    k = len(C)
    if k < 4:
        return np.zeros(k, dtype=int)
    Z = linkage(C, method="average", metric="cosine")
    heights = Z[:, 2]
    # Cutting between merge i and i+1 leaves k - 1 - i groups; a readable second level has
    # between about k/12 and k/3 parents (at least 2).
    lo, hi = max(2, k // 12), max(3, k // 3)
    candidates = [i for i in range(len(heights) - 1) if lo <= k - 1 - i <= hi]
    best = max(candidates, key=lambda i: heights[i + 1] - heights[i])
    return fcluster(Z, t=k - 1 - best, criterion="maxclust") - 1


def _next_number(session: Session, tenant_id: int) -> int:
    return (session.scalar(select(func.max(InsightTopic.number)).where(InsightTopic.tenant_id == tenant_id)) or 0) + 1


def refit_topics(session: Session, tenant_id: int, *, model: TopicModel | None = None, since=None, until=None) -> FitSummary:
    """Discover topics afresh over the records started in [since, until), keeping ids that persist.

    Records outside the window are then assigned to the new topics like newcomers (within radius).
    """
    started = time.perf_counter()
    stmt = select(InsightRecord.id, InsightRecord.embedding, InsightRecord.opening_text, InsightRecord.conversation_id).where(
        InsightRecord.tenant_id == tenant_id, InsightRecord.embedding.is_not(None))
    if since is not None:
        stmt = stmt.where(InsightRecord.started_at >= since)
    if until is not None:
        stmt = stmt.where(InsightRecord.started_at < until)
    rows = session.execute(stmt.order_by(InsightRecord.id)).all()
    if len(rows) < 2 * MIN_TOPIC_SIZE:
        raise NotFound(f"only {len(rows)} conversations with text: topics need at least {2 * MIN_TOPIC_SIZE}")
    dim = len(rows[0].embedding) // 4
    X = row_normalise(vectors_of([r.embedding for r in rows], dim))
    model = (model or TopicModel()).fit(X)
    labels = model.labels_.copy()  # -1: noise, for clusterers that leave some out (HDBSCAN)
    sizes = np.bincount(labels[labels >= 0], minlength=model.n_topics_)
    small = sizes < MIN_TOPIC_SIZE
    labels[(labels >= 0) & small[np.maximum(labels, 0)]] = -1  # a handful of odd conversations is noise, not a topic
    keep = [c for c in range(model.n_topics_) if not small[c]]
    remap = {c: i for i, c in enumerate(keep)}
    labels = np.array([remap.get(c, -1) for c in labels])
    C = row_normalise(np.stack([X[labels == i].mean(0) for i in range(len(keep))]))
    texts = [r.opening_text for r in rows]
    wording = Wording(texts)
    terms = class_tfidf(texts, labels, len(keep), wording=wording)
    names = name_topics(texts, labels, len(keep), wording=wording, terms=terms)

    old = active_topics(session, tenant_id)
    matched = _match(old, C)
    fit = InsightTopicFit(tenant_id=tenant_id, conversations=len(rows), topics=len(keep), params={
        "model": type(model).__name__, "reducer": repr(getattr(model, "reducer_", None)),
        "clusterer": repr(getattr(model, "clusterer_", None)),
        "candidates": {str(k): round(v, 4) for k, v in getattr(model, "scores_", {}).items()}})
    session.add(fit)
    session.flush()
    number = _next_number(session, tenant_id)
    topics: list[InsightTopic] = []
    for i in range(len(keep)):
        members = np.flatnonzero(labels == i)
        sims = X[members] @ C[i]
        rep = members[int(np.argmax(sims))]
        topic = matched.get(i)
        if topic is None:
            topic = InsightTopic(tenant_id=tenant_id, number=number, level=1)
            number += 1
            session.add(topic)
        topic.label = names[i] or f"Topic {topic.number}"
        topic.terms = [[t, round(w, 5)] for t, w in terms[i]]
        topic.representative_text = texts[rep]
        topic.representative_conversation_id = rows[rep].conversation_id
        topic.centroid = vector_bytes(C[i])
        topic.radius = max(MIN_RADIUS, float(np.quantile(1.0 - sims, RADIUS_QUANTILE)))
        topic.size = int(len(members))
        topic.status, topic.fit_id = "active", fit.id
        topics.append(topic)
    kept_ids = {t.id for t in matched.values()}
    retired = [t for t in old if t.id not in kept_ids]
    for t in retired:
        t.status = "retired"
    session.flush()
    parents = _refit_parents(session, tenant_id, topics, C, fit.id)
    # Every record is re-assigned against the new centroids, within radius.
    session.execute(update(InsightRecord).where(InsightRecord.tenant_id == tenant_id).values(topic_id=None, topic_distance=None))
    best, dist = nearest(X, C)
    radii = np.array([t.radius * RADIUS_SLACK for t in topics])
    by_topic: dict[int, list[int]] = {}
    unassigned = 0
    for row, b, d, lab in zip(rows, best, dist, labels):
        if lab < 0 and d > radii[b]:
            unassigned += 1
            continue
        by_topic.setdefault(topics[lab if lab >= 0 else b].id, []).append(row.id)
    for topic_id, ids in by_topic.items():
        for start in range(0, len(ids), 900):
            session.execute(update(InsightRecord).where(InsightRecord.id.in_(ids[start:start + 900])).values(topic_id=topic_id))
    if since is not None or until is not None:
        fitted = {row.id for row in rows}
        rest = [r for r in session.scalars(select(InsightRecord).where(
            InsightRecord.tenant_id == tenant_id, InsightRecord.embedding.is_not(None))) if r.id not in fitted]
        assign_records(session, tenant_id, rest)
    fit.kept, fit.created, fit.retired = len(matched), len(keep) - len(matched), len(retired)
    fit.seconds = time.perf_counter() - started
    return FitSummary(len(rows), len(keep), len(matched), len(keep) - len(matched), len(retired), parents, unassigned,
                      fit.seconds, dict(getattr(model, "scores_", {})))


def _refit_parents(session: Session, tenant_id: int, topics: list[InsightTopic], C: np.ndarray, fit_id: int) -> int:
    groups = _parents(C)
    old_parents = list(session.scalars(select(InsightTopic).where(InsightTopic.tenant_id == tenant_id, InsightTopic.level == 2,
                                                                  InsightTopic.status == "active")))
    PC = row_normalise(np.stack([C[groups == g].mean(0) for g in range(groups.max() + 1)]))
    matched = _match(old_parents, PC)
    number = _next_number(session, tenant_id)
    for g in range(len(PC)):
        children = [t for t, gg in zip(topics, groups) if gg == g]
        parent = matched.get(g)
        if parent is None:
            parent = InsightTopic(tenant_id=tenant_id, number=number, level=2)
            number += 1
            session.add(parent)
        biggest = max(children, key=lambda t: t.size)
        parent.label = " · ".join(list(dict.fromkeys(c.label for c in sorted(children, key=lambda t: -t.size)))[:3])
        parent.terms = biggest.terms[:5]
        parent.representative_text = biggest.representative_text
        parent.representative_conversation_id = biggest.representative_conversation_id
        parent.centroid, parent.radius = vector_bytes(PC[g]), None
        parent.size = sum(c.size for c in children)
        parent.status, parent.fit_id = "active", fit_id
        session.flush()
        for child in children:
            child.parent_id = parent.id
    for p in old_parents:
        if p not in matched.values():
            p.status = "retired"
    return len(PC)


def topic_by_number(session: Session, tenant_id: int, number: int) -> InsightTopic:
    topic = session.scalar(select(InsightTopic).where(InsightTopic.tenant_id == tenant_id, InsightTopic.number == number))
    if topic is None:
        raise NotFound(f"no topic {number} in this workspace")
    return topic


def topic_tree(session: Session, tenant_id: int, *, since=None, until=None) -> list[dict]:
    """Parents with their topics, each with terms, representative message and volume in the period."""
    volume_q = select(InsightRecord.topic_id, func.count()).where(InsightRecord.tenant_id == tenant_id)
    if since is not None:
        volume_q = volume_q.where(InsightRecord.started_at >= since)
    if until is not None:
        volume_q = volume_q.where(InsightRecord.started_at < until)
    volume = dict(session.execute(volume_q.group_by(InsightRecord.topic_id)).all())
    children = active_topics(session, tenant_id, 1)
    parents = {p.id: p for p in active_topics(session, tenant_id, 2)}
    tree: dict[int | None, dict] = {}
    for t in children:
        node = tree.get(t.parent_id)
        if node is None:
            p = parents.get(t.parent_id)
            node = tree[t.parent_id] = {**(topic_dict(p) if p else {"number": None, "label": "(no parent)"}),
                                        "volume": 0, "topics": []}
        item = {**topic_dict(t), "volume": volume.get(t.id, 0)}
        node["topics"].append(item)
        node["volume"] += item["volume"]
    out = sorted(tree.values(), key=lambda n: -n["volume"])
    for node in out:
        node["topics"].sort(key=lambda n: -n["volume"])
    return out


def topic_dict(t: InsightTopic) -> dict:
    return {"number": t.number, "level": t.level, "label": t.label, "terms": [term for term, _ in t.terms],
            "representative": t.representative_text, "representative_conversation_id": t.representative_conversation_id,
            "size": t.size, "status": t.status}


def unassigned_count(session: Session, tenant_id: int) -> int:
    return session.scalar(select(func.count()).select_from(InsightRecord).where(
        InsightRecord.tenant_id == tenant_id, InsightRecord.topic_id.is_(None), InsightRecord.embedding.is_not(None))) or 0


def topic_examples(session: Session, tenant_id: int, topic: InsightTopic, limit: int = 10) -> list[InsightRecord]:
    """The topic's conversations nearest its centre: the clearest statements of it."""
    ids = [topic.id] + list(session.scalars(select(InsightTopic.id).where(InsightTopic.parent_id == topic.id)))
    return list(session.scalars(select(InsightRecord).where(InsightRecord.tenant_id == tenant_id, InsightRecord.topic_id.in_(ids))
                                .order_by(InsightRecord.topic_distance, InsightRecord.id).limit(limit)))
