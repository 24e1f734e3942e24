"""Knowledge articles with version history, and procedures (the actions policy requires per reason)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deskmate.db import Base, utcnow


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("tenant_id", "external_id", name="uq_articles_tenant_external"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[list] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="published")  # draft, published, archived
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    versions: Mapped[list["ArticleVersion"]] = relationship(
        cascade="all, delete-orphan", order_by="ArticleVersion.version"
    )


class ArticleVersion(Base):
    __tablename__ = "article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version", name="uq_article_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[list] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16))
    edited_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Procedure(Base):
    __tablename__ = "procedures"
    __table_args__ = (UniqueConstraint("tenant_id", "reason", name="uq_procedures_tenant_reason"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    actions: Mapped[list] = mapped_column(default=list)  # ordered action names policy requires
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# ---- schemas -------------------------------------------------------------------------


class ArticleCreate(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=200_000)
    tags: list[str] = Field(default_factory=list)
    status: Literal["draft", "published"] = "published"
    external_id: str | None = Field(default=None, max_length=200)


class ArticleUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    body: str | None = Field(default=None, min_length=1, max_length=200_000)
    tags: list[str] | None = None
    status: Literal["draft", "published", "archived"] | None = None


class ArticleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    external_id: str | None
    title: str
    body: str
    tags: list[str]
    status: str
    version: int
    created_at: datetime
    updated_at: datetime


class ArticleVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    version: int
    title: str
    body: str
    tags: list[str]
    status: str
    edited_by: int | None
    created_at: datetime


class ArticlePage(BaseModel):
    items: list[ArticleRead]
    total: int
    limit: int
    offset: int


class ProcedureRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    reason: str
    name: str
    actions: list[str]
    article_id: int | None
