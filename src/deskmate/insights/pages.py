"""Insights pages: dashboard (topics over time, emerging issues, outcome by topic, friction), topic, reasons, search, transcript."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from deskmate.accounts.deps import get_session
from deskmate.accounts.models import User
from deskmate.conversations.service import get_conversation
from deskmate.errors import DeskmateError
from deskmate.insights import service, topics, trends
from deskmate.insights.alerts import alert_payload
from deskmate.insights.dashboard import chart_figures, overview
from deskmate.insights.search import Filters, search
from deskmate.web.pages import page_role, page_user, render

router = APIRouter(include_in_schema=False)
PERIODS = {"7d": "Last 7 days", "30d": "Last 30 days", "90d": "Last 90 days", "all": "All history"}


def _since(period: str, session: Session, tenant_id: int):
    """Periods count back from the newest conversation, so an imported history still shows its last month."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from deskmate.insights.models import InsightRecord

    if period == "all" or period not in PERIODS:
        return None
    newest = session.scalar(select(func.max(InsightRecord.started_at)).where(InsightRecord.tenant_id == tenant_id))
    return None if newest is None else newest - timedelta(days=int(period[:-1]))


@router.get("/insights")
def dashboard(request: Request, period: str = "30d", user: User = Depends(page_role("supervisor")),
              session: Session = Depends(get_session)):
    data = overview(session, user.tenant_id, since=_since(period, session, user.tenant_id))
    return render(request, "insights/dashboard.html", user, data=data, figures=chart_figures(data), period=period,
                  periods=PERIODS, alerts=[alert_payload(a) | {"status": a.status} for a in data["alerts"]])


@router.get("/insights/topic/{number}")
def topic_page(request: Request, number: int, user: User = Depends(page_role("supervisor")),
               session: Session = Depends(get_session)):
    topic = topics.topic_by_number(session, user.tenant_id, number)
    series = trends.load_series(session, user.tenant_id, "topic")
    counts = series.counts[series.subjects.index(str(number))].tolist() if str(number) in series.subjects else []
    figure = {"data": [{"type": "bar", "x": [d.isoformat() for d in series.days], "y": counts, "name": "conversations"}],
              "layout": {"title": {"text": "Conversations per day"}, "height": 300, "margin": {"l": 40, "r": 10, "t": 40, "b": 40}}}
    examples = topics.topic_examples(session, user.tenant_id, topic)
    return render(request, "insights/topic.html", user, topic=topics.topic_dict(topic), figure=figure, examples=examples)


def _reasons_page(request: Request, user: User, session: Session, *, error: str | None = None, done: str | None = None,
                  status_code: int = 200):
    from deskmate.reasons.curation import list_reasons

    return render(request, "insights/reasons.html", user, reasons=list_reasons(session, user.tenant_id), error=error,
                  done=done, status_code=status_code)


@router.get("/insights/reasons")
def reasons_page(request: Request, done: str = "", user: User = Depends(page_role("supervisor")),
                 session: Session = Depends(get_session)):
    return _reasons_page(request, user, session, done=done[:300] or None)


def _curate(request: Request, user: User, session: Session, action, done: str):
    """Run one curation; a refusal re-renders the page with the reason (422), success redirects (303)."""
    from urllib.parse import quote

    try:
        action()
    except DeskmateError as exc:
        session.rollback()
        return _reasons_page(request, user, session, error=str(exc), status_code=422)
    return RedirectResponse(f"/insights/reasons?done={quote(done)}", status_code=303)


@router.post("/insights/reasons/{reason_id}/rename")
def reason_rename(request: Request, reason_id: int, name: str = Form(""), user: User = Depends(page_role("supervisor")),
                  session: Session = Depends(get_session)):
    from deskmate.reasons.curation import rename_reason

    return _curate(request, user, session, lambda: rename_reason(session, user.tenant_id, reason_id, name),
                   f"Renamed to {name.strip()}")


@router.post("/insights/reasons/{reason_id}/merge")
def reason_merge(request: Request, reason_id: int, into: str = Form(""), user: User = Depends(page_role("supervisor")),
                 session: Session = Depends(get_session)):
    from deskmate.reasons.curation import merge_reasons

    return _curate(request, user, session, lambda: merge_reasons(session, user.tenant_id, reason_id, into), "Merged")


@router.post("/insights/reasons/{reason_id}/split")
def reason_split(request: Request, reason_id: int, parts: str = Form(""), user: User = Depends(page_role("supervisor")),
                 session: Session = Depends(get_session)):
    from deskmate.errors import InvalidInput
    from deskmate.reasons.curation import split_reason

    def run():
        if parts.strip() and not parts.strip().isdigit():
            raise InvalidInput("parts must be a whole number from 2 to 20, or empty to estimate it")
        split_reason(session, user.tenant_id, reason_id, parts=int(parts) if parts.strip() else None)

    return _curate(request, user, session, run, "Split")


@router.get("/insights/conversations")
def search_page(request: Request, q: str = "", mode: str = "hybrid", topic: str = "", reason: str = "", outcome: str = "",
                sentiment: str = "", tier: str = "", since: str = "", user: User = Depends(page_user),
                session: Session = Depends(get_session)):
    result, error = None, None
    form = {"q": q, "mode": mode, "topic": topic, "reason": reason, "outcome": outcome, "sentiment": sentiment,
            "tier": tier, "since": since}
    if q.strip():
        try:
            f = Filters(since=service.parse_since(since or None), topic=int(topic) if topic.strip() else None,
                        reason=reason or None, outcome=outcome or None, sentiment=sentiment or None, tier=tier or None)
            result = search(session, request.app.state.settings, user.tenant_id, q, mode=mode, filters=f, limit=30)
        except (ValueError, DeskmateError) as exc:
            error = str(exc) if isinstance(exc, DeskmateError) else "topic must be a topic number"
    tree = topics.topic_tree(session, user.tenant_id)
    options = [(t["number"], t["label"]) for p in tree for t in p["topics"]]
    return render(request, "insights/search.html", user, form=form, result=result, error=error, topic_options=options,
                  status_code=422 if error else 200)


@router.get("/insights/conversations/{conversation_id}")
def conversation_page(request: Request, conversation_id: int, user: User = Depends(page_user),
                      session: Session = Depends(get_session)):
    conversation = get_conversation(session, tenant_id=user.tenant_id, conversation_id=conversation_id, with_messages=True)
    record = service.record_for(session, user.tenant_id, conversation_id)
    topic = session.get(topics.InsightTopic, record.topic_id) if record is not None and record.topic_id else None
    return render(request, "insights/conversation.html", user, conversation=conversation, record=record, topic=topic)
