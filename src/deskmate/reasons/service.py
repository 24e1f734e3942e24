"""Reasons from topics, and the supervisor's curation of the catalogue (rename, merge, split).

Where conversations carry no reason, the discovered topics become the workspace's reasons; where
some do, both are used: a topic whose labelled members mostly share one given reason
(MIN_LABELLED of them at least, MIN_SHARE of the majority) passes that reason to its unlabelled
members, and any other topic becomes a reason of its own, named after the topic. Given reasons
are never overwritten here; a conversation's `reason_source` says which ones topics assigned, so
each re-fit can re-assign those (and only those). The intent model then trains on all of them.

Every operation takes a session (or a sessionmaker, committing once) and plain values.
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from contextlib import contextmanager

import numpy as np
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from deskmate.conversations.models import Conversation
from deskmate.db import session_scope
from deskmate.errors import NotFound
from deskmate.insights.clustering import nearest, row_normalise
from deskmate.insights.models import InsightRecord, InsightTopic
from deskmate.insights.naming import GENERIC_NAME
from deskmate.insights.records import vectors_of
from deskmate.knowledge.models import Procedure
from deskmate.reasons.models import Reason

MIN_LABELLED = 3  # given reasons a topic needs among its members before one of them names it
MIN_SHARE = 0.5  # ... and the share of them the most common one must have
GENERIC_KEY = "general_request"  # every greeting-only topic is one reason, not four
CHUNK = 900  # ids per IN (...) list, under SQLite's variable limit


@contextmanager
def _scope(session_or_sessionmaker):
    if isinstance(session_or_sessionmaker, Session):
        yield session_or_sessionmaker
        session_or_sessionmaker.flush()
    else:
        with session_scope(session_or_sessionmaker) as session:
            yield session


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:90] or "reason"


def _given(source: str | None) -> bool:
    return source != "topic"


def catalogue(session: Session, tenant_id: int) -> dict[str, Reason]:
    return {r.key: r for r in session.scalars(select(Reason).where(Reason.tenant_id == tenant_id))}


def final(reason: Reason, by_id: dict[int, Reason]) -> Reason:
    """Follow merges to the reason that absorbed this one."""
    seen = set()
    while reason.merged_into_id and reason.merged_into_id in by_id and reason.id not in seen:
        seen.add(reason.id)
        reason = by_id[reason.merged_into_id]
    return reason


def free_key(name: str, taken) -> str:
    base = key = _slug(name)
    k = 2
    while key in taken:
        key, k = f"{base}_{k}", k + 1
    return key


def free_name(name: str, taken_lower: set[str], hint: str) -> str:
    if name.lower() not in taken_lower:
        return name
    candidate, k = f"{name} ({hint})", 2
    while candidate.lower() in taken_lower:
        candidate, k = f"{name} ({hint} {k})", k + 1
    return candidate


def reason_names(session: Session, tenant_id: int) -> set[str]:
    return {n.lower() for n in session.scalars(select(Reason.name).where(Reason.tenant_id == tenant_id,
                                                                         Reason.status != "merged"))}


def move_conversations(session: Session, tenant_id: int, conversation_ids: list[int], key: str, *,
                       source: str | None = "keep") -> None:
    """Give these conversations (and their insight rows) the reason `key`; `updated_at` is left alone,
    so nothing downstream re-reads a conversation only because its reason was re-labelled."""
    values = {"reason": key, "updated_at": Conversation.updated_at}
    if source != "keep":
        values["reason_source"] = source
    for start in range(0, len(conversation_ids), CHUNK):
        ids = conversation_ids[start:start + CHUNK]
        session.execute(update(Conversation).where(Conversation.tenant_id == tenant_id, Conversation.id.in_(ids))
                        .values(**values).execution_options(synchronize_session=False))
        session.execute(update(InsightRecord).where(InsightRecord.tenant_id == tenant_id, InsightRecord.conversation_id.in_(ids))
                        .values(reason=key).execution_options(synchronize_session=False))


def _carriers(session: Session, tenant_id: int, key: str) -> list[int]:
    return list(session.scalars(select(Conversation.id).where(Conversation.tenant_id == tenant_id, Conversation.reason == key)))


def sync_given(session: Session, tenant_id: int) -> int:
    """Catalogue every reason the source gave (named after its procedure when there is one); returns new rows.

    A given reason a supervisor merged away keeps being merged: conversations imported later with it follow.
    """
    given = session.scalars(select(Conversation.reason).where(
        Conversation.tenant_id == tenant_id, Conversation.reason.is_not(None), Conversation.reason != "",
        or_(Conversation.reason_source.is_(None), Conversation.reason_source != "topic")).distinct()).all()
    rows = catalogue(session, tenant_id)
    by_id = {r.id: r for r in rows.values()}
    procedures = dict(session.execute(select(Procedure.reason, Procedure.name).where(Procedure.tenant_id == tenant_id)).all())
    names = reason_names(session, tenant_id)
    created = 0
    for key in sorted(given):
        row = rows.get(key)
        if row is None:
            name = procedures.get(key) or key.replace("_", " ").replace("-", " ").strip().capitalize()
            name = free_name(name[:180], names, key[:15])
            row = rows[key] = Reason(tenant_id=tenant_id, key=key, name=name, source="given", status="active")
            session.add(row)
            names.add(name.lower())
            created += 1
        elif row.status == "merged":
            target = final(row, by_id)
            if target.key != key:
                move_conversations(session, tenant_id, _carriers(session, tenant_id, key), target.key)
    session.flush()
    return created


def _topic_reason(session: Session, tenant_id: int, topic: InsightTopic, rows: dict[str, Reason]) -> Reason:
    """The topic's own reason, created (and named after the topic) the first time."""
    if topic.label.startswith(GENERIC_NAME):
        if GENERIC_KEY not in rows:
            rows[GENERIC_KEY] = Reason(tenant_id=tenant_id, key=GENERIC_KEY, name=GENERIC_NAME, source="topic",
                                       topic_id=topic.id, status="active")
            session.add(rows[GENERIC_KEY])
        return rows[GENERIC_KEY]
    own = next((r for r in rows.values() if r.topic_id == topic.id and r.source == "topic" and r.split_from_id is None
                and r.key != GENERIC_KEY), None)
    if own is None:
        name = free_name(topic.label, reason_names(session, tenant_id), f"topic {topic.number}")
        own = Reason(tenant_id=tenant_id, key=free_key(topic.label, rows), name=name, source="topic", topic_id=topic.id,
                     status="active")
        session.add(own)
        rows[own.key] = own
    return own


def _parts(session: Session, reason: Reason) -> list[Reason]:
    return list(session.scalars(select(Reason).where(Reason.split_from_id == reason.id, Reason.status != "merged")))


def _resolve_split(session: Session, tenant_id: int, reason: Reason, conversation_ids: list[int], by_id) -> dict[int, str]:
    """Conversations of a split reason join the nearest of its parts (parts split again recurse)."""
    parts = [final(p, by_id) for p in _parts(session, reason)]
    parts = [p for p in parts if p.centroid]
    if not parts or not conversation_ids:
        return {cid: reason.key for cid in conversation_ids}
    C = np.stack([np.frombuffer(p.centroid, dtype=np.float32) for p in parts])
    rows = session.execute(select(InsightRecord.conversation_id, InsightRecord.embedding).where(
        InsightRecord.tenant_id == tenant_id, InsightRecord.conversation_id.in_(conversation_ids))).all()
    best, _ = nearest(row_normalise(vectors_of([r.embedding for r in rows], C.shape[1])), C)
    out: dict[int, str] = {}
    grouped: dict[int, list[int]] = defaultdict(list)
    for (cid, _), b in zip(rows, best):
        grouped[int(b)].append(cid)
    for b, cids in grouped.items():
        part = parts[b]
        out.update(_resolve_split(session, tenant_id, part, cids, by_id) if part.status == "split"
                   else {cid: part.key for cid in cids})
    return out


def assign_reasons_from_topics(session_or_sessionmaker, tenant_id: int, *, min_labelled: int = MIN_LABELLED,
                               min_share: float = MIN_SHARE) -> dict:
    """Give every conversation without a given reason the reason of its topic (see the module docstring).

    Needs fitted topics (`deskmate.insights.service.refit`); returns what it did.
    """
    started = time.perf_counter()
    with _scope(session_or_sessionmaker) as session:
        new_given = sync_given(session, tenant_id)
        topics = list(session.scalars(select(InsightTopic).where(InsightTopic.tenant_id == tenant_id, InsightTopic.level == 1,
                                                                 InsightTopic.status == "active").order_by(InsightTopic.number)))
        members = session.execute(
            select(InsightRecord.topic_id, Conversation.id, Conversation.reason, Conversation.reason_source)
            .join(Conversation, Conversation.id == InsightRecord.conversation_id)
            .where(InsightRecord.tenant_id == tenant_id, InsightRecord.topic_id.is_not(None))).all()
        by_topic: dict[int, list] = defaultdict(list)
        for m in members:
            by_topic[m.topic_id].append(m)
        rows = catalogue(session, tenant_id)
        plan: dict[int, str] = {}
        from_given = from_topics = 0
        for topic in topics:
            labelled = Counter(m.reason for m in by_topic[topic.id] if m.reason and _given(m.reason_source))
            top = labelled.most_common(1)
            if top and sum(labelled.values()) >= min_labelled and top[0][1] >= min_share * sum(labelled.values()):
                target, from_given = rows[top[0][0]], from_given + 1
            else:
                target, from_topics = _topic_reason(session, tenant_id, topic, rows), from_topics + 1
            session.flush()
            by_id = {r.id: r for r in rows.values()}
            target = final(target, by_id)
            todo = [m.id for m in by_topic[topic.id] if not (m.reason and _given(m.reason_source))]
            if target.status == "split":
                plan.update(_resolve_split(session, tenant_id, target, todo, by_id))
            else:
                plan.update({cid: target.key for cid in todo})
        current = {m.id: m.reason for m in members}
        changes: dict[str, list[int]] = defaultdict(list)
        for cid, key in plan.items():
            if current.get(cid) != key:
                changes[key].append(cid)
        for key, cids in changes.items():
            move_conversations(session, tenant_id, cids, key, source="topic")
        counts = dict(session.execute(select(Conversation.reason, func.count()).where(
            Conversation.tenant_id == tenant_id, Conversation.reason.is_not(None)).group_by(Conversation.reason)).all())
        for r in rows.values():  # a topic's reason with nobody left (its topic now maps to a given reason) retires
            if r.source == "topic" and r.status in ("active", "retired"):
                r.status = "active" if counts.get(r.key) else "retired"
        unreasoned = session.scalar(select(func.count()).select_from(Conversation).where(
            Conversation.tenant_id == tenant_id, or_(Conversation.reason.is_(None), Conversation.reason == ""))) or 0
    return {"topics": len(topics), "from_given": from_given, "from_topics": from_topics, "given_reasons_added": new_given,
            "assigned": len(plan), "changed": sum(len(c) for c in changes.values()), "without_reason": unreasoned,
            "seconds": round(time.perf_counter() - started, 2)}


def prepare_reasons(settings, sessionmaker, tenant_id: int, progress=None, *, encoder=None) -> dict:
    """The workspace-preparation step, before the intent model trains: records, topics if none, reasons.

    Skipped when every conversation has a given reason (the intent model has labels already).
    """
    from deskmate.insights import service as insights

    with session_scope(sessionmaker) as session:
        missing = session.scalar(select(func.count()).select_from(Conversation).where(
            Conversation.tenant_id == tenant_id, or_(Conversation.reason.is_(None), Conversation.reason == "",
                                                     Conversation.reason_source == "topic"))) or 0
    if not missing:
        return {"skipped": "no conversation lacks a given reason"}
    task = progress.add_task("reasons: insight records", total=None) if progress is not None else None
    detail = {"records": insights.refresh(settings, sessionmaker, tenant_id, encoder=encoder)}
    with session_scope(sessionmaker) as session:
        fitted = insights.has_topics(session, tenant_id)
    if task is not None:
        progress.update(task, description="reasons: topics")
    try:
        detail["topics"] = None if fitted else insights.refit(sessionmaker, tenant_id, reasons=False)
    except NotFound as exc:  # too few conversations with text to find topics in
        return {**detail, "skipped": str(exc)}
    if task is not None:
        progress.update(task, description="reasons: assigning")
    detail["reasons"] = assign_reasons_from_topics(sessionmaker, tenant_id)
    if task is not None:
        progress.update(task, description="reasons: done", total=1, completed=1)
    return detail
