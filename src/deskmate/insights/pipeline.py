"""Workspace preparation step: records, topics, and alerts over the whole history (idempotent).

Runs after outcomes (order in `deskmate.plugins`) so records carry quality scores and predicted outcomes.
Topics are re-fitted only when there are none yet; a later run refreshes what changed and
assigns new conversations incrementally, as the nightly job would. Alert detection walks every
day of history that has a baseline; alerts already stored are not created twice.
"""

from __future__ import annotations

from sqlalchemy import func, select

from deskmate.db import session_scope
from deskmate.insights import service
from deskmate.insights.models import InsightRecord


def prepare_workspace(settings, sessionmaker, tenant_id: int, progress=None) -> dict:
    task = progress.add_task("insights: records", total=None) if progress is not None else None

    def advance(n: int, total: int) -> None:
        if progress is not None:
            progress.update(task, total=total, advance=n)

    detail = {"records": service.refresh(settings, sessionmaker, tenant_id, on_progress=advance)}
    with session_scope(sessionmaker) as session:
        fitted = service.has_topics(session, tenant_id)
        first = session.scalar(select(func.min(InsightRecord.started_at)).where(InsightRecord.tenant_id == tenant_id))
    if progress is not None:
        progress.update(task, description="insights: topics")
    if first is None:
        return {**detail, "topics": None, "alerts": None}
    if not fitted:
        detail["topics"] = service.refit(sessionmaker, tenant_id)
    if progress is not None:
        progress.update(task, description="insights: alerts")
    detail["alerts"] = service.detect_and_push(settings, sessionmaker, tenant_id, day_from=first.date())
    if progress is not None:
        progress.update(task, description="insights: done")
    return detail
