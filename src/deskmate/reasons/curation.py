"""A supervisor's hand on the reason catalogue: list, rename, merge (A into B), split (re-cluster one reason).

Renaming changes only the readable name: the key conversations carry stays, so nothing is
re-labelled and the intent model keeps its classes. Merging moves A's conversations to B and
remembers it, so later assignments (and later imports of A) follow. Splitting re-clusters the
reason's conversations by their opening's embedding (the insights topic model, k estimated unless
given), names each part like a topic, and stores each part's centroid so conversations that reach
the split reason later join the nearest part.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deskmate.conversations.models import Conversation
from deskmate.errors import InvalidInput, NotFound
from deskmate.insights.clustering import TopicModel, centroids, row_normalise
from deskmate.insights.models import InsightRecord, InsightTopic
from deskmate.insights.naming import Wording, class_tfidf, name_topics
from deskmate.insights.records import vector_bytes, vectors_of
from deskmate.reasons.models import Reason
from deskmate.reasons.service import catalogue, final, free_key, free_name, move_conversations, reason_names

MAX_NAME = 200
MIN_PART = 3  # conversations in each part of a split
MAX_PARTS = 20


def get_reason(session: Session, tenant_id: int, ref: str | int) -> Reason:
    """A reason by id (a number) or by key."""
    text = str(ref).strip()
    reason = (session.get(Reason, int(text)) if text.isdigit() else
              session.scalar(select(Reason).where(Reason.tenant_id == tenant_id, Reason.key == text)))
    if reason is None or reason.tenant_id != tenant_id:
        raise NotFound(f"no reason {text!r} in this workspace")
    return reason


def reason_dict(reason: Reason, *, conversations: int = 0, from_topics: int = 0, topic_number: int | None = None,
                merged_into: str | None = None) -> dict:
    return {"id": reason.id, "key": reason.key, "name": reason.name, "source": reason.source, "status": reason.status,
            "topic": topic_number, "merged_into": merged_into, "split_from": reason.split_from_id,
            "conversations": conversations, "from_topics": from_topics}


def list_reasons(session: Session, tenant_id: int, *, include_inactive: bool = False) -> list[dict]:
    """The catalogue, busiest first, with how many conversations carry each reason (and how many got it from a topic)."""
    counts: dict[str, list[int]] = {}
    for key, source, n in session.execute(select(Conversation.reason, Conversation.reason_source, func.count()).where(
            Conversation.tenant_id == tenant_id, Conversation.reason.is_not(None))
            .group_by(Conversation.reason, Conversation.reason_source)):
        c = counts.setdefault(key, [0, 0])
        c[0] += n
        c[1] += n if source == "topic" else 0
    numbers = dict(session.execute(select(InsightTopic.id, InsightTopic.number).where(InsightTopic.tenant_id == tenant_id)).all())
    rows = catalogue(session, tenant_id)
    by_id = {r.id: r for r in rows.values()}
    out = [reason_dict(r, conversations=counts.get(r.key, [0, 0])[0], from_topics=counts.get(r.key, [0, 0])[1],
                       topic_number=numbers.get(r.topic_id),
                       merged_into=final(r, by_id).key if r.merged_into_id else None)
           for r in rows.values() if include_inactive or r.status == "active"]
    return sorted(out, key=lambda d: (-d["conversations"], d["name"].lower()))


def rename_reason(session: Session, tenant_id: int, ref: str | int, name: str) -> Reason:
    reason = get_reason(session, tenant_id, ref)
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("a reason needs a name")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"a reason's name is at most {MAX_NAME} characters")
    clash = session.scalar(select(Reason).where(Reason.tenant_id == tenant_id, func.lower(Reason.name) == name.lower(),
                                                Reason.id != reason.id, Reason.status != "merged"))
    if clash is not None:
        raise InvalidInput(f"reason {clash.id} ({clash.key}) is already called {clash.name!r}: merge the two instead")
    reason.name = name
    session.flush()
    return reason


def merge_reasons(session: Session, tenant_id: int, source_ref: str | int, target_ref: str | int) -> Reason:
    """Merge `source` into `target`: its conversations follow, and so do later ones."""
    source, target = get_reason(session, tenant_id, source_ref), get_reason(session, tenant_id, target_ref)
    if source.id == target.id:
        raise InvalidInput("a reason cannot be merged into itself")
    for r, role in ((source, "merge"), (target, "merge into")):
        if r.status in ("merged", "split"):
            raise InvalidInput(f"reason {r.key!r} was {r.status} already: {role} one of what it became")
    move_conversations(session, tenant_id, list(session.scalars(select(Conversation.id).where(
        Conversation.tenant_id == tenant_id, Conversation.reason == source.key))), target.key)
    for earlier in session.scalars(select(Reason).where(Reason.merged_into_id == source.id)):
        earlier.merged_into_id = target.id  # one hop from anything merged before
    source.merged_into_id, source.status = target.id, "merged"
    session.flush()
    return target


def split_reason(session: Session, tenant_id: int, ref: str | int, *, parts: int | None = None, model=None) -> list[Reason]:
    """Re-cluster a reason's conversations into parts (k estimated unless `parts`); each part becomes a reason."""
    from sklearn.cluster import KMeans

    reason = get_reason(session, tenant_id, ref)
    if reason.status != "active":
        raise InvalidInput(f"reason {reason.key!r} is {reason.status}: only an active reason can be split")
    if parts is not None and not 2 <= parts <= MAX_PARTS:
        raise InvalidInput(f"a reason splits into 2 to {MAX_PARTS} parts")
    rows = session.execute(select(Conversation.id, InsightRecord.embedding, InsightRecord.opening_text)
                           .join(InsightRecord, InsightRecord.conversation_id == Conversation.id)
                           .where(Conversation.tenant_id == tenant_id, Conversation.reason == reason.key,
                                  InsightRecord.embedding.is_not(None)).order_by(Conversation.id)).all()
    need = MIN_PART * (parts or 2)
    if len(rows) < need:
        raise InvalidInput(f"reason {reason.key!r} has {len(rows)} conversation(s) with text: a split needs at least {need}"
                           " (run 'deskmate insights refresh' first if records are missing)")
    X = row_normalise(vectors_of([r.embedding for r in rows], len(rows[0].embedding) // 4))
    model = model or (TopicModel(clusterer=KMeans(parts, n_init=10, random_state=0)) if parts else TopicModel())
    labels = np.asarray(model.fit(X).labels_)
    k = int(labels.max()) + 1
    sizes = np.bincount(labels[labels >= 0], minlength=k)
    if (sizes >= MIN_PART).sum() < 2:
        raise InvalidInput(f"reason {reason.key!r} does not split: its conversations form one group")
    keep = [c for c in range(k) if sizes[c] >= MIN_PART]
    C = centroids(X[labels >= 0], labels[labels >= 0], k)[keep]
    labels = np.argmax(X @ C.T, axis=1)  # small groups and noise join the nearest kept part
    texts = [r.opening_text for r in rows]
    wording = Wording(texts)
    names = name_topics(texts, labels, len(keep), wording=wording, terms=class_tfidf(texts, labels, len(keep), wording=wording))
    taken, keys = reason_names(session, tenant_id), catalogue(session, tenant_id)
    created = []
    for i in range(len(keep)):
        name = free_name(f"{reason.name}: {names[i]}"[:180] if names[i] else f"{reason.name} {i + 1}", taken, f"part {i + 1}")
        part = Reason(tenant_id=tenant_id, key=free_key(f"{reason.key} {names[i] or i + 1}", keys), name=name,
                      source="topic", topic_id=reason.topic_id, split_from_id=reason.id, status="active",
                      centroid=vector_bytes(row_normalise(X[labels == i].mean(0, keepdims=True))[0]))
        session.add(part)
        keys[part.key] = part
        taken.add(name.lower())
        created.append(part)
        move_conversations(session, tenant_id, [rows[j].id for j in np.flatnonzero(labels == i)], part.key)
    reason.status = "split"
    session.flush()
    return created
