"""Knowledge articles (every edit kept as a version) and procedures."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from deskmate.errors import InvalidInput, NotFound
from deskmate.knowledge.models import Article, ArticleCreate, ArticleUpdate, ArticleVersion, Procedure

# Called with (session, article) after an article is created or changed, so retrieval
# indexes (owned by other domains) see published drafts at once.
article_listeners: list = []


def _notify(session: Session, article: Article) -> None:
    for listener in article_listeners:
        listener(session, article)


def get_article(session: Session, *, tenant_id: int, article_id: int) -> Article:
    article = session.scalar(select(Article).where(Article.tenant_id == tenant_id, Article.id == article_id))
    if article is None:
        raise NotFound(f"no article {article_id}")
    return article


def list_articles(
    session: Session, *, tenant_id: int, query: str | None = None, status: str | None = None, tag: str | None = None,
    limit: int = 50, offset: int = 0,
) -> tuple[list[Article], int]:
    stmt = select(Article).where(Article.tenant_id == tenant_id)
    if status:
        stmt = stmt.where(Article.status == status)
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(or_(func.lower(Article.title).like(like), func.lower(Article.body).like(like)))
    rows = list(session.scalars(stmt.order_by(Article.title, Article.id)))
    if tag:  # tags are a JSON list; filtering in Python keeps this portable across SQLite and PostgreSQL
        rows = [a for a in rows if tag in (a.tags or [])]
    return rows[offset : offset + limit], len(rows)


def _snapshot(article: Article, edited_by: int | None) -> ArticleVersion:
    return ArticleVersion(
        article_id=article.id, version=article.version, title=article.title, body=article.body,
        tags=list(article.tags or []), status=article.status, edited_by=edited_by,
    )


def create_article(session: Session, *, tenant_id: int, data: ArticleCreate, edited_by: int | None = None) -> Article:
    if data.external_id and session.scalar(
        select(Article).where(Article.tenant_id == tenant_id, Article.external_id == data.external_id)
    ):
        raise InvalidInput(f"external_id: an article {data.external_id!r} already exists")
    article = Article(tenant_id=tenant_id, **data.model_dump())
    session.add(article)
    session.flush()
    session.add(_snapshot(article, edited_by))
    session.flush()
    _notify(session, article)
    return article


def update_article(session: Session, *, article: Article, data: ArticleUpdate, edited_by: int | None = None) -> Article:
    fields = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    if not any(getattr(article, k) != v for k, v in fields.items()):
        return article
    for key, value in fields.items():
        setattr(article, key, value)
    article.version += 1
    session.add(_snapshot(article, edited_by))
    session.flush()
    _notify(session, article)
    return article


def upsert_article(session: Session, *, tenant_id: int, external_id: str, title: str, body: str, tags: list[str],
                   status: str = "published") -> tuple[Article, str]:
    article = session.scalar(select(Article).where(Article.tenant_id == tenant_id, Article.external_id == external_id))
    if article is None:
        data = ArticleCreate(title=title, body=body, tags=tags, status=status, external_id=external_id)
        return create_article(session, tenant_id=tenant_id, data=data), "created"
    before = article.version
    update_article(session, article=article, data=ArticleUpdate(title=title, body=body, tags=tags, status=status))
    return article, "updated" if article.version != before else "unchanged"


def article_versions(session: Session, *, article: Article) -> list[ArticleVersion]:
    return list(session.scalars(select(ArticleVersion).where(ArticleVersion.article_id == article.id).order_by(ArticleVersion.version)))


def list_procedures(session: Session, *, tenant_id: int) -> list[Procedure]:
    return list(session.scalars(select(Procedure).where(Procedure.tenant_id == tenant_id).order_by(Procedure.reason)))


def get_procedure(session: Session, *, tenant_id: int, reason: str) -> Procedure | None:
    return session.scalar(select(Procedure).where(Procedure.tenant_id == tenant_id, Procedure.reason == reason))


def upsert_procedure(session: Session, *, tenant_id: int, reason: str, name: str, actions: list[str],
                     article_id: int | None = None) -> tuple[Procedure, str]:
    proc = get_procedure(session, tenant_id=tenant_id, reason=reason)
    if proc is None:
        proc = Procedure(tenant_id=tenant_id, reason=reason, name=name, actions=list(actions), article_id=article_id)
        session.add(proc)
        session.flush()
        return proc, "created"
    new = {"name": name, "actions": list(actions), "article_id": article_id if article_id is not None else proc.article_id}
    if all(getattr(proc, k) == v for k, v in new.items()):
        return proc, "unchanged"
    for k, v in new.items():
        setattr(proc, k, v)
    return proc, "updated"
