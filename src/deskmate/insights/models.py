"""Insight tables: one structured record per conversation, discovered topics, topic fits and alerts.

All of it is derived data, rebuilt from conversations (and the outcome scores) at any time;
topics keep their ids across re-fits so charts, alerts and exports stay comparable.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from deskmate.db import Base, utcnow


class InsightRecord(Base):
    """The row people export: what each conversation was about and how it went."""

    __tablename__ = "insight_records"
    __table_args__ = (
        UniqueConstraint("conversation_id", name="uq_insight_records_conversation"),
        Index("ix_insight_records_tenant_started", "tenant_id", "started_at"),
        Index("ix_insight_records_tenant_topic", "tenant_id", "topic_id"),
        # Covers the search's "has anything changed" stamp (count, newest rebuild) without reading vectors.
        Index("ix_insight_records_tenant_refreshed", "tenant_id", "refreshed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[int | None] = mapped_column(Integer)
    agent_name: Mapped[str | None] = mapped_column(String(200))
    customer_id: Mapped[int | None] = mapped_column(Integer)
    customer_tier: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(100))
    intent: Mapped[str | None] = mapped_column(String(100))
    intent_confidence: Mapped[float | None] = mapped_column(Float)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("insight_topics.id", ondelete="SET NULL"))
    topic_distance: Mapped[float | None] = mapped_column(Float)
    products: Mapped[list] = mapped_column(default=list)
    entities: Mapped[dict] = mapped_column(default=dict)  # kind -> [values]
    sentiment_start: Mapped[float | None] = mapped_column(Float)
    sentiment_end: Mapped[float | None] = mapped_column(Float)
    sentiment_lowest: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str | None] = mapped_column(String(16))
    predicted_outcome: Mapped[str | None] = mapped_column(String(16))
    quality_score: Mapped[float | None] = mapped_column(Float)
    handle_seconds: Mapped[float | None] = mapped_column(Float)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    # Friction: how far into the reason's procedure the agent got, and the first step never reached.
    procedure_steps: Mapped[int | None] = mapped_column(Integer)
    procedure_done: Mapped[int | None] = mapped_column(Integer)
    stalled_at: Mapped[str | None] = mapped_column(String(64))
    opening_text: Mapped[str] = mapped_column(Text, default="")
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)  # float32 of the opening text
    source_updated_at: Mapped[datetime | None]  # the conversation's updated_at when this row was built
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)


class InsightTopic(Base):
    """A reason for contact found without labels; level 1 topics sit under level 2 parents."""

    __tablename__ = "insight_topics"
    __table_args__ = (UniqueConstraint("tenant_id", "number", name="uq_insight_topics_tenant_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # stable, human-facing id within the workspace
    level: Mapped[int] = mapped_column(Integer, default=1)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("insight_topics.id", ondelete="SET NULL"))
    label: Mapped[str] = mapped_column(String(200))
    terms: Mapped[list] = mapped_column(default=list)  # [[term, weight], ...] by class-based TF-IDF
    representative_text: Mapped[str] = mapped_column(Text, default="")
    representative_conversation_id: Mapped[int | None] = mapped_column(Integer)
    centroid: Mapped[bytes | None] = mapped_column(LargeBinary)
    radius: Mapped[float | None] = mapped_column(Float)  # cosine distance beyond which a newcomer is unassigned
    size: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active, retired, emerging
    fit_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InsightTopicFit(Base):
    """One full re-fit of the topic model: what it saw and what it chose (k, criterion)."""

    __tablename__ = "insight_topic_fits"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    conversations: Mapped[int] = mapped_column(Integer)
    topics: Mapped[int] = mapped_column(Integer)
    kept: Mapped[int] = mapped_column(Integer, default=0)  # topics matched to an existing id
    created: Mapped[int] = mapped_column(Integer, default=0)
    retired: Mapped[int] = mapped_column(Integer, default=0)
    params: Mapped[dict] = mapped_column(default=dict)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    fitted_at: Mapped[datetime] = mapped_column(default=utcnow)


class InsightAlert(Base):
    """An emerging issue: a topic or reason whose volume broke its seasonal baseline, or a new topic."""

    __tablename__ = "insight_alerts"
    __table_args__ = (UniqueConstraint("tenant_id", "key", name="uq_insight_alerts_tenant_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(200))  # kind:subject:first day, so one episode alerts once
    kind: Mapped[str] = mapped_column(String(16))  # spike, new_topic
    dimension: Mapped[str] = mapped_column(String(16))  # topic, reason, intent
    subject: Mapped[str] = mapped_column(String(200))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("insight_topics.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300))
    day: Mapped[datetime]  # the day the rise was detected on
    observed: Mapped[int] = mapped_column(Integer)
    expected: Mapped[float] = mapped_column(Float)
    ratio: Mapped[float] = mapped_column(Float)
    p_value: Mapped[float] = mapped_column(Float)
    terms: Mapped[list] = mapped_column(default=list)
    products: Mapped[list] = mapped_column(default=list)
    conversation_ids: Mapped[list] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, acknowledged
    pushed: Mapped[dict] = mapped_column(default=dict)  # channel -> "ok" | error text
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InsightDocument(Base):
    """The searchable text of a conversation; the migration adds FTS5 (SQLite) or a tsvector (PostgreSQL) over it."""

    __tablename__ = "insight_documents"
    __table_args__ = (UniqueConstraint("conversation_id", name="uq_insight_documents_conversation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text, default="")
