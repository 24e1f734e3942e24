"""Store and fetch conversation scores: on close, on demand, and for history in bulk.

Transcripts come from the conversation read model's bulk loader (Core selects, not ORM objects,
since bulk scoring reads every message of tens of thousands of conversations); a batch is scored
and written in its own transaction, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from deskmate.timeparse import parse_since  # noqa: F401 - one definition; outcomes' routes and CLI call it here
from deskmate.accounts.models import Tenant
from deskmate.conversations.models import Conversation
from deskmate.conversations.transcript import load_transcripts
from deskmate.db import utcnow
from deskmate.errors import Forbidden, InvalidInput, NotFound
from deskmate.outcomes.confidence import Effort, Trajectory, resolution_quality
from deskmate.outcomes.models import ConversationScore
from deskmate.outcomes.resolution import (
    OUTCOMES,
    ResolutionModel,
    model_path,
    trainable,
)
from deskmate.outcomes.scoring import Scorer, generation_backend
from deskmate.outcomes.summary import generated_text
from deskmate.outcomes.transcript import Transcript

REOPEN_WINDOW = timedelta(days=7)
TRAIN_BATCH = 500


def scoring_transcripts(session: Session, *, tenant_id: int, conversation_ids: Sequence[int]) -> list[Transcript]:
    """Transcripts in the order of `conversation_ids` (missing ids are left out), without the outcome label."""
    return load_transcripts(session, tenant_id, conversation_ids, with_outcome=False)


# ---- reopens -------------------------------------------------------------------------------


def reopen_map(session: Session, *, tenant_id: int, customer_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Conversation id -> the next conversation of the same customer on the same reason within 7 days of its end."""
    stmt = select(Conversation.id, Conversation.customer_id, Conversation.reason, Conversation.started_at,
                  Conversation.ended_at).where(Conversation.tenant_id == tenant_id, Conversation.customer_id.is_not(None),
                                               Conversation.reason.is_not(None))
    if customer_ids is not None:
        stmt = stmt.where(Conversation.customer_id.in_(list(customer_ids)))
    groups: dict[tuple, list] = defaultdict(list)
    for r in session.execute(stmt):
        groups[(r.customer_id, r.reason)].append(r)
    reopened = {}
    for rows in groups.values():
        rows.sort(key=lambda r: (r.started_at, r.id))
        for prev, nxt in pairwise(rows):
            if nxt.started_at - (prev.ended_at or prev.started_at) <= REOPEN_WINDOW:
                reopened[prev.id] = nxt.id
    return reopened


def _apply_reopens(session: Session, *, tenant_id: int, mapping: dict[int, int], customer_ids=None) -> int:
    """Bring stored rows' reopen flags (and the resolution-quality points they carry) up to date."""
    stmt = select(ConversationScore.id, ConversationScore.conversation_id, ConversationScore.reopened_by).join(
        Conversation, Conversation.id == ConversationScore.conversation_id).where(ConversationScore.tenant_id == tenant_id)
    if customer_ids is not None:
        stmt = stmt.where(Conversation.customer_id.in_(list(customer_ids)))
    stale = [r.id for r in session.execute(stmt) if r.reopened_by != mapping.get(r.conversation_id)]
    changed = 0
    for start in range(0, len(stale), TRAIN_BATCH):
        changed += _refresh_reopens(session, stale[start:start + TRAIN_BATCH], mapping)
    return changed


def _refresh_reopens(session: Session, score_ids: list[int], mapping: dict[int, int]) -> int:
    changed = 0
    for row in session.scalars(select(ConversationScore).where(ConversationScore.id.in_(score_ids))):
        by = mapping.get(row.conversation_id)
        if row.reopened_by != by:
            row.reopened, row.reopened_by = by is not None, by
            effort = Effort(**{k: row.effort[k] for k in Effort.__dataclass_fields__})
            trajectory = Trajectory(row.sentiment_start, row.sentiment_end, row.sentiment_lowest, None, row.sentiment_shift, False)
            row.resolution_quality, row.resolution_quality_parts = resolution_quality(
                p_resolved=row.outcome_probabilities.get("resolved", 0.0), reopened=row.reopened,
                trajectory=trajectory, effort=effort)
            changed += 1
    return changed


# ---- storing ---------------------------------------------------------------------------------


def store_scores(session: Session, results) -> None:
    rows = [r.values | {"scored_at": utcnow()} for r in results]
    if not rows:
        return
    session.execute(delete(ConversationScore).where(ConversationScore.conversation_id.in_([r["conversation_id"] for r in rows])))
    session.execute(insert(ConversationScore), rows)


def score_conversation(session: Session, *, settings, tenant_id: int, conversation_id: int,
                       scorer: Scorer | None = None) -> ConversationScore:
    """Score (or rescore) one conversation now, and mark an earlier one it reopens."""
    transcripts = scoring_transcripts(session, tenant_id=tenant_id, conversation_ids=[conversation_id])
    if not transcripts:
        raise NotFound(f"no conversation {conversation_id}")
    t = transcripts[0]
    scorer = scorer or Scorer.for_tenant(session, settings=settings, tenant_id=tenant_id)
    customers = [t.customer_id] if t.customer_id is not None else []
    mapping = reopen_map(session, tenant_id=tenant_id, customer_ids=customers) if customers else {}
    store_scores(session, scorer.score_many([t], mapping))
    if customers:
        _apply_reopens(session, tenant_id=tenant_id, mapping=mapping, customer_ids=customers)
    session.flush()
    return session.scalar(select(ConversationScore).where(ConversationScore.conversation_id == conversation_id))


def get_conversation_score(session: Session, *, settings, tenant_id: int, conversation_id: int, viewer=None,
                           compute: bool = True) -> ConversationScore:
    """The stored score, recomputed when missing or older than the conversation's last change."""
    conv = session.scalar(select(Conversation).where(Conversation.tenant_id == tenant_id, Conversation.id == conversation_id))
    if conv is None:
        raise NotFound(f"no conversation {conversation_id}")
    if viewer is not None:
        check_can_view_agent(viewer, conv.agent_id, what="this conversation's scorecard")
    row = session.scalar(select(ConversationScore).where(ConversationScore.conversation_id == conversation_id))
    stale = row is not None and conv.updated_at is not None and conv.updated_at > row.scored_at
    if (row is None or stale) and compute:
        row = score_conversation(session, settings=settings, tenant_id=tenant_id, conversation_id=conversation_id)
    if row is None:
        raise NotFound(f"conversation {conversation_id} is not scored yet")
    return add_generated_summary(row, settings)


def add_generated_summary(row: ConversationScore, settings) -> ConversationScore:
    """With a generation backend configured, rephrase the extractive note once, when someone reads it.

    Not at close time nor in bulk: a local model takes seconds per note, closing must stay instant."""
    if (row.summary or {}).get("text_source") != "extractive":
        return row
    generate = generation_backend(settings)
    text = generated_text(row.summary, generate) if generate else None
    if text:
        row.summary = {**row.summary, "text_source": "generated", "extractive_text": row.summary_text}
        row.summary_text = text
    return row


def check_can_view_agent(viewer, agent_id: int | None, *, what: str = "this scorecard") -> None:
    """Agents see their own work; supervisors and admins see everyone's."""
    from deskmate.accounts.service import has_role

    if not has_role(viewer, "supervisor") and viewer.id != agent_id:
        raise Forbidden(f"agents can see only their own scorecards; {what} belongs to another agent")


# ---- training -------------------------------------------------------------------------------


def labelled_conversation_ids(session: Session, *, tenant_id: int, until: datetime | None = None) -> list[int]:
    """Closed conversations whose source recorded an outcome, oldest first."""
    stmt = select(Conversation.id).where(Conversation.tenant_id == tenant_id, Conversation.status == "closed",
                                         Conversation.outcome.in_(OUTCOMES))
    if until is not None:
        stmt = stmt.where(Conversation.started_at < until)
    return list(session.scalars(stmt.order_by(Conversation.started_at, Conversation.id)))


def outcome_labels(session: Session, conversation_ids: Sequence[int]) -> dict[int, str]:
    """The stored outcome labels: read only to train and to evaluate, never to score."""
    labels = {}
    for start in range(0, len(conversation_ids), TRAIN_BATCH):
        chunk = list(conversation_ids[start:start + TRAIN_BATCH])
        labels.update((cid, outcome) for cid, outcome in session.execute(
            select(Conversation.id, Conversation.outcome).where(Conversation.id.in_(chunk))))
    return labels


def fit_resolution_model(session: Session, *, scorer: Scorer, conversation_ids: Sequence[int],
                         model: ResolutionModel | None = None) -> ResolutionModel | None:
    """Fit on the given labelled conversations; None when they are too few or one-sided to learn from."""
    labels = outcome_labels(session, conversation_ids)
    samples, y = [], []
    for start in range(0, len(conversation_ids), TRAIN_BATCH):
        transcripts = scoring_transcripts(session, tenant_id=scorer.tenant_id,
                                       conversation_ids=conversation_ids[start:start + TRAIN_BATCH])
        samples.extend(scorer.samples(transcripts))
        y.extend(labels[t.conversation_id] for t in transcripts)
    if not trainable(y):
        return None
    return (model or ResolutionModel()).fit(samples, y)


def train_resolution_model(session: Session, *, settings, tenant_id: int) -> ResolutionModel | None:
    """Fit the workspace's resolution model on all its labelled history and save it (None: not enough labels)."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"no workspace {tenant_id}")
    scorer = Scorer.for_tenant(session, settings=settings, tenant_id=tenant_id, use_saved_model=False)
    model = fit_resolution_model(session, scorer=scorer,
                                 conversation_ids=labelled_conversation_ids(session, tenant_id=tenant_id))
    if model is not None:
        model.save(model_path(settings.models_dir, tenant.slug))
    return model
