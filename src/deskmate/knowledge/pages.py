"""Knowledge pages: search, read, write and edit articles (drafts and published)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from deskmate.accounts.deps import get_session
from deskmate.accounts.models import User
from deskmate.accounts.service import has_role
from deskmate.errors import DeskmateError
from deskmate.knowledge import service
from deskmate.knowledge.models import ArticleCreate, ArticleUpdate
from deskmate.web.pages import page_role, page_user, render

router = APIRouter(include_in_schema=False)


@router.get("/knowledge")
def knowledge_index(request: Request, q: str = "", status: str = "", user: User = Depends(page_user),
                    session: Session = Depends(get_session)):
    rows, total = service.list_articles(session, tenant_id=user.tenant_id, query=q or None,
                                        status=status if status in ("draft", "published", "archived") else None, limit=200)
    return render(request, "knowledge/index.html", user, articles=rows, total=total, q=q, status=status,
                  can_edit=has_role(user, "supervisor"))


@router.get("/knowledge/new")
def knowledge_new(request: Request, user: User = Depends(page_role("supervisor"))):
    return render(request, "knowledge/edit.html", user, article=None, error=None)


@router.post("/knowledge/new")
def knowledge_create(request: Request, title: str = Form(""), body: str = Form(""), tags: str = Form(""),
                     status: str = Form("draft"), user: User = Depends(page_role("supervisor")),
                     session: Session = Depends(get_session)):
    try:
        data = ArticleCreate(title=title.strip(), body=body.strip(), tags=_tags(tags), status=status)
        article = service.create_article(session, tenant_id=user.tenant_id, data=data, edited_by=user.id)
    except (ValueError, DeskmateError) as exc:
        return render(request, "knowledge/edit.html", user, status_code=422, article=None, error=_message(exc),
                      draft={"title": title, "body": body, "tags": tags, "status": status})
    return RedirectResponse(f"/knowledge/{article.id}", status_code=303)


@router.get("/knowledge/{article_id}")
def knowledge_read(request: Request, article_id: int, user: User = Depends(page_user), session: Session = Depends(get_session)):
    article = service.get_article(session, tenant_id=user.tenant_id, article_id=article_id)
    versions = service.article_versions(session, article=article)
    return render(request, "knowledge/read.html", user, article=article, versions=versions,
                  can_edit=has_role(user, "supervisor"))


@router.get("/knowledge/{article_id}/edit")
def knowledge_edit(request: Request, article_id: int, user: User = Depends(page_role("supervisor")),
                   session: Session = Depends(get_session)):
    article = service.get_article(session, tenant_id=user.tenant_id, article_id=article_id)
    return render(request, "knowledge/edit.html", user, article=article, error=None)


@router.post("/knowledge/{article_id}/edit")
def knowledge_save(request: Request, article_id: int, title: str = Form(""), body: str = Form(""), tags: str = Form(""),
                   status: str = Form("draft"), user: User = Depends(page_role("supervisor")),
                   session: Session = Depends(get_session)):
    article = service.get_article(session, tenant_id=user.tenant_id, article_id=article_id)
    try:
        data = ArticleUpdate(title=title.strip(), body=body.strip(), tags=_tags(tags), status=status)
        service.update_article(session, article=article, data=data, edited_by=user.id)
    except (ValueError, DeskmateError) as exc:
        session.rollback()
        return render(request, "knowledge/edit.html", user, status_code=422, article=article, error=_message(exc),
                      draft={"title": title, "body": body, "tags": tags, "status": status})
    return RedirectResponse(f"/knowledge/{article.id}", status_code=303)


def _tags(raw: str) -> list[str]:
    return [t.strip() for t in raw.split(",") if t.strip()]


def _message(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors())
    return str(exc)
