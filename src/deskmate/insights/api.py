"""Insights API: records (JSON, CSV, Parquet), topics, trends, alerts, search, the HTML report.

Reading insights needs the supervisor role (they span every agent's conversations); search is
open to agents too, since finding similar past cases is part of handling one.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from deskmate.accounts.deps import current_user, get_session, require_role
from deskmate.accounts.models import User
from deskmate.insights import export as export_mod
from deskmate.insights import service, topics, trends
from deskmate.insights.alerts import alert_payload
from deskmate.insights.search import Filters, search

router = APIRouter(prefix="/insights", tags=["insights"])
supervisor = require_role("supervisor")


def _period(what: str):
    return Query(default=None, max_length=40, description=f"{what}: ISO date/time or a duration back from now (30d, 12w)")


def filters(
    since: str | None = _period("since"), until: str | None = _period("until"),
    topic: int | None = Query(default=None, ge=1, description="topic number (a parent topic includes its children)"),
    reason: str | None = Query(default=None, max_length=100), intent: str | None = Query(default=None, max_length=100),
    outcome: Literal["resolved", "unresolved", "escalated", "abandoned"] | None = None,
    sentiment: Literal["negative", "neutral", "positive"] | None = None,
    agent_id: int | None = None, tier: str | None = Query(default=None, max_length=32),
    channel: str | None = Query(default=None, max_length=32),
) -> Filters:
    return Filters(since=service.parse_since(since), until=service.parse_since(until), topic=topic, reason=reason,
                   intent=intent, outcome=outcome, sentiment=sentiment, agent_id=agent_id, tier=tier, channel=channel)


@router.get("/records")
def records(format: Literal["json", "csv", "parquet"] = "json", limit: int = Query(default=100, ge=1, le=100_000),
            offset: int = Query(default=0, ge=0), f: Filters = Depends(filters), user: User = Depends(supervisor),
            session: Session = Depends(get_session)):
    """One row per conversation (reason, topic, intent, products, sentiment, outcome, quality, handle time...)."""
    rows = export_mod.iter_rows(session, user.tenant_id, f, limit=limit, offset=offset)
    if format == "csv":
        return StreamingResponse(export_mod.csv_chunks(rows), media_type="text/csv",
                                 headers={"Content-Disposition": 'attachment; filename="insight-records.csv"'})
    if format == "parquet":
        buf = io.BytesIO()
        export_mod.write_parquet(rows, buf)
        return Response(buf.getvalue(), media_type="application/vnd.apache.parquet",
                        headers={"Content-Disposition": 'attachment; filename="insight-records.parquet"'})
    items = [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in rows]
    return {"items": items, "total": export_mod.count(session, user.tenant_id, f), "limit": limit, "offset": offset}


@router.get("/topics")
def topic_list(since: str | None = _period("since"), until: str | None = _period("until"), user: User = Depends(supervisor),
               session: Session = Depends(get_session)):
    """Parent topics with their topics: label, distinctive terms, representative message, volume in the period."""
    return {"parents": topics.topic_tree(session, user.tenant_id, since=service.parse_since(since), until=service.parse_since(until)),
            "unassigned": topics.unassigned_count(session, user.tenant_id)}


@router.get("/topics/{number}")
def topic_detail(number: int, user: User = Depends(supervisor), session: Session = Depends(get_session)):
    """One topic: label, distinctive terms, representative message, size at the last fit, parent."""
    topic = topics.topic_by_number(session, user.tenant_id, number)
    return {**topics.topic_dict(topic), "parent": topic.parent_id}


@router.post("/topics/refit")
def refit(request: Request, since: str | None = _period("since"), user: User = Depends(supervisor)):
    """Re-discover topics over the records (the scheduled batch job); ids persist where topics persist."""
    return service.refit(request.app.state.sessionmaker, user.tenant_id, since=service.parse_since(since))


@router.post("/refresh")
def refresh(request: Request, full: bool = False, user: User = Depends(supervisor)):
    """Build insight records for new or changed conversations (all of them with full=true)."""
    return service.refresh(request.app.state.settings, request.app.state.sessionmaker, user.tenant_id, full=full)


@router.get("/trends")
def trend(dimension: Literal["topic", "reason", "intent", "product"] = "topic", interval: Literal["day", "week"] = "day",
          since: str | None = _period("since"), until: str | None = _period("until"), top: int = Query(default=10, ge=1, le=100),
          user: User = Depends(supervisor), session: Session = Depends(get_session)):
    """Volume per period for the busiest subjects, with the seasonal expectation (daily)."""
    return trends.volume(session, user.tenant_id, dimension, interval=interval, since=service.parse_since(since),
                         until=service.parse_since(until), top=top)


@router.get("/alerts")
def alert_list(kind: Literal["spike", "new_topic"] | None = None, status: Literal["open", "acknowledged"] | None = None,
               since: str | None = _period("since"), limit: int = Query(default=50, ge=1, le=500), offset: int = Query(default=0, ge=0),
               user: User = Depends(supervisor), session: Session = Depends(get_session)):
    """Emerging issues, newest first, with their evidence (poll this for the floor if no socket is open)."""
    rows, total = service.list_alerts(session, user.tenant_id, kind=kind, status=status, since=service.parse_since(since),
                                      limit=limit, offset=offset)
    return {"items": [{**alert_payload(a), "status": a.status, "pushed": a.pushed} for a in rows], "total": total,
            "limit": limit, "offset": offset}


@router.post("/alerts/detect")
def detect(request: Request, day_from: date | None = None, day_to: date | None = None, user: User = Depends(supervisor)):
    """Run detection (default: the latest day) and push new alerts to the webhook and the floor."""
    hub = getattr(request.app.state, "assist_hub", None)
    return service.detect_and_push(request.app.state.settings, request.app.state.sessionmaker, user.tenant_id,
                                   day_from=day_from, day_to=day_to, hub=hub)


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(alert_id: int, user: User = Depends(supervisor), session: Session = Depends(get_session)):
    """Mark an alert as seen."""
    alert = service.acknowledge(session, user.tenant_id, alert_id)
    return {**alert_payload(alert), "status": alert.status}


@router.get("/search")
def search_conversations(request: Request, q: str = Query(..., min_length=1, max_length=500),
                         mode: Literal["hybrid", "text", "semantic"] = "hybrid", limit: int = Query(default=20, ge=1, le=200),
                         offset: int = Query(default=0, ge=0), f: Filters = Depends(filters), user: User = Depends(current_user),
                         session: Session = Depends(get_session)):
    """Full-text plus semantic search over conversations, filtered; every hit links to its conversation."""
    return search(session, request.app.state.settings, user.tenant_id, q, mode=mode, filters=f, limit=limit, offset=offset)


@router.get("/report", response_class=HTMLResponse)
def report(request: Request, since: str = Query(default="30d", max_length=40), user: User = Depends(supervisor),
           session: Session = Depends(get_session)):
    """The self-contained HTML report for a product team (charts inline, opens offline)."""
    from deskmate.insights.report import render_report

    return HTMLResponse(render_report(session, user.tenant_id, since=service.parse_since(since), base_url=str(request.base_url)))


def setup_app(app) -> None:
    """Dashboard pages mount beside the API (absolute paths under /insights)."""
    from deskmate.insights.pages import router as pages_router

    app.include_router(pages_router)
