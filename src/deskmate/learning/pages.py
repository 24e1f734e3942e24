"""Learning pages for supervisors: ranker versions with their replay scores, the gap queue, feedback statistics.

Paths sit beside the JSON API under /learning without sharing any: /learning (overview and
versions), /learning/queue (gaps and their drafts), /learning/feedback (statistics).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from deskmate.accounts.deps import get_session
from deskmate.accounts.models import User
from deskmate.errors import DeskmateError
from deskmate.learning import gaps, store, versions
from deskmate.learning.feedback_stats import feedback_stats
from deskmate.web.pages import page_role, render

router = APIRouter(include_in_schema=False)
supervisor = page_role("supervisor")


def _version_rows(rows) -> list[dict]:
    return [{"version": v.version, "status": v.status, "created_at": v.created_at, "promoted_at": v.promoted_at,
             "scores": {g: v.scores.get(g) for g in versions.GATED},
             "baseline": {g: v.baseline.get(g) for g in versions.GATED},
             "weights": (v.params or {}).get("weights", {}), "decision": v.decision, "rows": v.feedback_rows}
            for v in rows]


@router.get("/learning")
def learning_index(request: Request, error: str = "", user: User = Depends(supervisor), session: Session = Depends(get_session)):
    rows = _version_rows(versions.list_versions(session, tenant_id=user.tenant_id))
    queue = gaps.list_gaps(session, tenant_id=user.tenant_id, status="open")
    stats = feedback_stats(session, tenant_id=user.tenant_id)
    chart = [{"version": v["version"], "scores": v["scores"]} for v in reversed(rows)]  # oldest first
    return render(request, "learning/index.html", user, versions=rows, chart=chart, gated=versions.GATED, queue=queue, stats=stats,
                  current=store.current_version(request.app.state.settings, user.tenant.slug), error=error)


@router.post("/learning/models/{version}/rollback")
def learning_rollback(request: Request, version: str, user: User = Depends(supervisor), session: Session = Depends(get_session)):
    try:
        versions.rollback(session, settings=request.app.state.settings, tenant=user.tenant, version=version)
    except DeskmateError as exc:
        session.rollback()
        return RedirectResponse(f"/learning?error={_quote(str(exc))}", status_code=303)
    return RedirectResponse("/learning", status_code=303)


@router.get("/learning/queue")
def learning_queue(request: Request, user: User = Depends(supervisor), session: Session = Depends(get_session)):
    return render(request, "learning/queue.html", user, gaps=gaps.list_gaps(session, tenant_id=user.tenant_id))


@router.get("/learning/queue/{gap_id}")
def learning_gap(request: Request, gap_id: int, user: User = Depends(supervisor), session: Session = Depends(get_session)):
    return _gap_page(request, user, session, gap_id)


def _gap_page(request: Request, user: User, session: Session, gap_id: int, *, error: str | None = None,
              status_code: int = 200, draft: dict | None = None):
    from deskmate.knowledge.models import Article

    gap = gaps.get_gap(session, tenant_id=user.tenant_id, gap_id=gap_id)
    article = session.get(Article, gap.article_id) if gap.article_id else None
    return render(request, "learning/gap.html", user, status_code=status_code, gap=gap, article=article, error=error,
                  draft=draft or {"title": article.title if article else gap.title, "body": article.body if article else gap.body})


@router.post("/learning/queue/{gap_id}/publish")
def learning_publish(request: Request, gap_id: int, title: str = Form(""), body: str = Form(""),
                     user: User = Depends(supervisor), session: Session = Depends(get_session)):
    if not title.strip() or not body.strip():
        return _gap_page(request, user, session, gap_id, error="A published article needs a title and a body.",
                         status_code=422, draft={"title": title, "body": body})
    try:
        _, article = gaps.publish_gap(session, tenant_id=user.tenant_id, gap_id=gap_id, user_id=user.id, title=title,
                                      body=body)
    except DeskmateError as exc:
        session.rollback()
        return _gap_page(request, user, session, gap_id, error=str(exc), status_code=422, draft={"title": title, "body": body})
    return RedirectResponse(f"/knowledge/{article.id}", status_code=303)


@router.post("/learning/queue/{gap_id}/dismiss")
def learning_dismiss(request: Request, gap_id: int, user: User = Depends(supervisor), session: Session = Depends(get_session)):
    try:
        gaps.dismiss_gap(session, tenant_id=user.tenant_id, gap_id=gap_id, user_id=user.id)
    except DeskmateError as exc:
        session.rollback()
        return _gap_page(request, user, session, gap_id, error=str(exc), status_code=422)
    return RedirectResponse("/learning/queue", status_code=303)


@router.get("/learning/feedback")
def learning_feedback(request: Request, since: str = "", user: User = Depends(supervisor), session: Session = Depends(get_session)):
    from deskmate.outcomes.service import parse_since

    error = None
    try:
        start = parse_since(since or None)
    except DeskmateError as exc:
        start, error = None, str(exc)
    stats = feedback_stats(session, tenant_id=user.tenant_id, since=start)
    weekly: dict[str, dict] = {}
    for w in stats.by_week:
        series = weekly.setdefault(w.kind, {"weeks": [], "acceptance": [], "edit": []})
        series["weeks"].append(w.week)
        series["acceptance"].append(w.acceptance_rate)
        series["edit"].append(w.edit_rate)
    return render(request, "learning/feedback.html", user, stats=stats, weekly=weekly, since=since, error=error)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text[:300], safe="")
