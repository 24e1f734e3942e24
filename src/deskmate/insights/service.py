"""Insight jobs as the CLI, the API and workspace preparation call them: refresh, re-fit, detect and push.

Each job takes a sessionmaker (not a session) because it commits in steps: an interrupted
refresh keeps the batches it finished, and alerts are committed before they are pushed so a
webhook that hangs never loses one.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskmate.db import session_scope
from deskmate.errors import NotFound
from deskmate.insights import alerts as alerts_mod
from deskmate.insights import topics as topics_mod
from deskmate.insights.models import InsightAlert, InsightRecord
from deskmate.insights.records import refresh_records
from deskmate.timeparse import parse_since  # noqa: F401 - the API, CLI and pages read it from here

PUSH_RECENT_DAYS = 2  # a backfill over history stores old alerts; only those this recent are pushed


def refresh(settings, sessionmaker, tenant_id: int, *, full: bool = False, on_progress=None, encoder=None) -> dict:
    return refresh_records(settings, sessionmaker, tenant_id, full=full, on_progress=on_progress, encoder=encoder).as_dict()


def refit(sessionmaker, tenant_id: int, *, since=None, until=None, model=None, reasons: bool = True) -> dict:
    """Re-fit topics; then (with `reasons`) conversations without a given reason take their topic's reason."""
    with session_scope(sessionmaker) as session:
        summary = topics_mod.refit_topics(session, tenant_id, since=since, until=until, model=model).as_dict()
    if reasons:
        try:
            from deskmate.reasons.service import assign_reasons_from_topics
        except ModuleNotFoundError:  # the reasons domain is optional
            return summary
        summary["reasons"] = assign_reasons_from_topics(sessionmaker, tenant_id)
    return summary


def has_topics(session: Session, tenant_id: int) -> bool:
    return bool(topics_mod.active_topics(session, tenant_id))


def detect_and_push(settings, sessionmaker, tenant_id: int, *, day_from: date | None = None, day_to: date | None = None,
                    hub=None, push: bool = True) -> dict:
    """Detect over the days given (default: the last day with data), store the alerts, push the recent ones."""
    with session_scope(sessionmaker) as session:
        summary = alerts_mod.detect(session, tenant_id, day_from=day_from, day_to=day_to)
        created_ids = [a.id for a in summary.created]
        latest = max((a.day.date() for a in summary.created), default=None)
    pushed = 0
    if push and created_ids:
        with session_scope(sessionmaker) as session:
            for alert in session.scalars(select(InsightAlert).where(InsightAlert.id.in_(created_ids))):
                if latest is not None and alert.day.date() >= latest - timedelta(days=PUSH_RECENT_DAYS - 1):
                    alerts_mod.push(alert, settings=settings, hub=hub)
                    pushed += 1
    return {**summary.as_dict(), "pushed": pushed}


def list_alerts(session: Session, tenant_id: int, *, kind: str | None = None, status: str | None = None,
                since=None, limit: int = 50, offset: int = 0) -> tuple[list[InsightAlert], int]:
    from sqlalchemy import func

    stmt = select(InsightAlert).where(InsightAlert.tenant_id == tenant_id)
    if kind:
        stmt = stmt.where(InsightAlert.kind == kind)
    if status:
        stmt = stmt.where(InsightAlert.status == status)
    if since is not None:
        stmt = stmt.where(InsightAlert.day >= since)
    total = session.scalar(stmt.with_only_columns(func.count())) or 0
    rows = session.scalars(stmt.order_by(InsightAlert.day.desc(), InsightAlert.id.desc()).limit(limit).offset(offset)).all()
    return list(rows), total


def acknowledge(session: Session, tenant_id: int, alert_id: int) -> InsightAlert:
    alert = session.get(InsightAlert, alert_id)
    if alert is None or alert.tenant_id != tenant_id:
        raise NotFound(f"no alert {alert_id} in this workspace")
    alert.status = "acknowledged"
    return alert


def record_for(session: Session, tenant_id: int, conversation_id: int) -> InsightRecord | None:
    return session.scalar(select(InsightRecord).where(InsightRecord.tenant_id == tenant_id,
                                                      InsightRecord.conversation_id == conversation_id))
