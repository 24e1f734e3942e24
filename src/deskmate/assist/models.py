"""Tables live assist owns: article passages (its retrieval index) and feedback on suggestions.

The full-text side of the passage index is dialect-specific and created by the migration:
an FTS5 table `assist_passages_fts` on SQLite, a GIN `to_tsvector` expression index on PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from deskmate.db import Base, utcnow


class Passage(Base):
    """One retrievable piece of an article; rows of a changed article are deactivated, never edited,
    so a process holding a dense index in memory can catch up by reading rows with a newer `revision`."""

    __tablename__ = "assist_passages"
    __table_args__ = (
        Index("ix_assist_passages_tenant_revision", "tenant_id", "revision"),
        Index("ix_assist_passages_article", "article_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    article_version: Mapped[int] = mapped_column(Integer, default=1)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)  # float32, L2-normalised
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedbackEvent(Base):
    """What an agent did with a suggestion; the learning loop joins these to the conversation's outcome."""

    __tablename__ = "assist_feedback_events"
    __table_args__ = (
        Index("ix_assist_feedback_tenant_created", "tenant_id", "created_at"),
        Index("ix_assist_feedback_conversation", "conversation_id"),
        Index("ix_assist_feedback_suggestion", "tenant_id", "suggestion_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    suggestion_id: Mapped[str] = mapped_column(String(200))
    suggestion_type: Mapped[str] = mapped_column(String(16))  # kb, reply, nba, alert, intent, summary
    event: Mapped[str] = mapped_column(String(16))  # shown, inserted, edited, dismissed, rated
    final_text: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
