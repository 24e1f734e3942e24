from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from deskmate.accounts.deps import current_user, get_session, require_role
from deskmate.accounts.models import User
from deskmate.knowledge import service
from deskmate.knowledge.models import (
    ArticleCreate,
    ArticlePage,
    ArticleRead,
    ArticleUpdate,
    ArticleVersionRead,
    ProcedureRead,
)

router = APIRouter(tags=["knowledge"])


@router.get("/articles", response_model=ArticlePage)
def list_articles(
    q: str | None = Query(default=None, max_length=200),
    status: str | None = Query(default=None, pattern="^(draft|published|archived)$"),
    tag: str | None = Query(default=None, max_length=100),
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
    user: User = Depends(current_user),
    session: Session = Depends(get_session),
):
    """Knowledge articles, filtered by text, status or tag."""
    rows, total = service.list_articles(session, tenant_id=user.tenant_id, query=q, status=status, tag=tag, limit=limit, offset=offset)
    return ArticlePage(items=[ArticleRead.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)


@router.post("/articles", response_model=ArticleRead, status_code=201)
def create_article(body: ArticleCreate, user: User = Depends(require_role("supervisor")), session: Session = Depends(get_session)):
    """Write a new article (draft or published)."""
    return service.create_article(session, tenant_id=user.tenant_id, data=body, edited_by=user.id)


@router.get("/articles/{article_id}", response_model=ArticleRead)
def get_article(article_id: int, user: User = Depends(current_user), session: Session = Depends(get_session)):
    """One article."""
    return service.get_article(session, tenant_id=user.tenant_id, article_id=article_id)


@router.patch("/articles/{article_id}", response_model=ArticleRead)
def update_article(
    article_id: int, body: ArticleUpdate, user: User = Depends(require_role("supervisor")), session: Session = Depends(get_session)
):
    """Edit an article; the previous text is kept as a version."""
    article = service.get_article(session, tenant_id=user.tenant_id, article_id=article_id)
    return service.update_article(session, article=article, data=body, edited_by=user.id)


@router.get("/articles/{article_id}/versions", response_model=list[ArticleVersionRead])
def article_versions(article_id: int, user: User = Depends(current_user), session: Session = Depends(get_session)):
    """Every version of an article, oldest first."""
    article = service.get_article(session, tenant_id=user.tenant_id, article_id=article_id)
    return service.article_versions(session, article=article)


@router.get("/procedures", response_model=list[ProcedureRead])
def list_procedures(user: User = Depends(current_user), session: Session = Depends(get_session)):
    """The ordered actions policy requires for each reason for contact."""
    return service.list_procedures(session, tenant_id=user.tenant_id)


from deskmate.knowledge.pages import router as pages_router  # noqa: E402

router.include_router(pages_router)
