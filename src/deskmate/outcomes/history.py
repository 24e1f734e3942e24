"""Score a workspace's history in bulk, with a Rich progress bar; safe to interrupt and run again.

Without `rescore`, conversations already scored are skipped, so a second run resumes. The
resolution model is (re)fitted first when the workspace has labelled history and no model
yet, or when asked to.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime

from sqlalchemy import select

from deskmate.accounts.models import Tenant
from deskmate.conversations.models import Conversation
from deskmate.db import session_scope
from deskmate.errors import NotFound
from deskmate.outcomes.models import ConversationScore, ScoreRun
from deskmate.outcomes.resolution import RULES_VERSION, load_workspace_model
from deskmate.outcomes.scoring import Scorer
from deskmate.outcomes.service import (
    _apply_reopens,
    labelled_conversation_ids,
    reopen_map,
    scoring_transcripts,
    store_scores,
    train_resolution_model,
)

BATCH = 250


def conversations_to_score(session, *, tenant_id: int, since: datetime | None = None, rescore: bool = False,
                           conversation_ids=None) -> list[int]:
    stmt = select(Conversation.id).where(Conversation.tenant_id == tenant_id)
    if conversation_ids is not None:
        stmt = stmt.where(Conversation.id.in_(list(conversation_ids)))
    else:
        stmt = stmt.where(Conversation.status == "closed")
    if since is not None:
        stmt = stmt.where(Conversation.started_at >= since)
    if not rescore:
        stmt = stmt.where(~Conversation.id.in_(select(ConversationScore.conversation_id).where(
            ConversationScore.tenant_id == tenant_id)))
    return list(session.scalars(stmt.order_by(Conversation.started_at, Conversation.id)))


def _progress_bar(progress):
    """`progress` is True (draw our own bar), False/None (silent) or a caller's Rich Progress to add a task to."""
    if progress is True:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    return nullcontext(progress or None)


def score_history(sessionmaker, *, settings, tenant_id: int, since: datetime | None = None, rescore: bool = False,
                  retrain: bool = False, conversation_ids=None, progress=True, batch_size: int = BATCH) -> ScoreRun:
    with session_scope(sessionmaker) as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound(f"no workspace {tenant_id}")
        slug = tenant.slug
        current = load_workspace_model(settings.models_dir, slug)
        labelled = len(labelled_conversation_ids(session, tenant_id=tenant_id))
        # Refit when labelled history changed since the model was fitted (an import or a new demo), so re-runs stay cheap.
        if retrain or (current is None and labelled) or (current is not None and current.n_train_ != labelled):
            train_resolution_model(session, settings=settings, tenant_id=tenant_id)
        ids = conversations_to_score(session, tenant_id=tenant_id, since=since, rescore=rescore,
                                     conversation_ids=conversation_ids)
        candidates = ids if rescore else conversations_to_score(
            session, tenant_id=tenant_id, since=since, rescore=True, conversation_ids=conversation_ids)
        mapping = reopen_map(session, tenant_id=tenant_id)
    model = load_workspace_model(settings.models_dir, slug)
    scored = 0
    with _progress_bar(progress) as bar:
        task = bar.add_task(f"scoring {slug}", total=len(ids)) if bar is not None else None
        for start in range(0, len(ids), batch_size):
            with session_scope(sessionmaker) as session:
                scorer = Scorer.for_tenant(session, settings=settings, tenant_id=tenant_id, model=model)
                transcripts = scoring_transcripts(session, tenant_id=tenant_id, conversation_ids=ids[start:start + batch_size])
                store_scores(session, scorer.score_many(transcripts, mapping))
                scored += len(transcripts)
            if bar is not None:
                bar.update(task, advance=len(transcripts))
    with session_scope(sessionmaker) as session:
        _apply_reopens(session, tenant_id=tenant_id, mapping=mapping)
    return ScoreRun(scored=scored, skipped=len(candidates) - len(ids), model_version=model.version if model else RULES_VERSION,
                    resolution_source="model" if model else "rules")
