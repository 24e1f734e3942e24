"""The workspace's reasons for contact: one row per reason, whether the source gave it or topics found it.

A conversation carries its reason as `Conversation.reason` (the catalogue row's `key`, which never
changes, so the intent model's labels and every chart stay stable) and `Conversation.reason_source`
('topic' when a topic gave it; empty when the source or an agent did). The row adds what people
see and curate: a readable `name` (renaming touches no conversation), where the reason came from,
and the supervisor's merges (`merged_into_id`) and splits (`split_from_id`, with each part's
centroid so later conversations of the split topic join the nearest part).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from deskmate.db import Base, utcnow

SOURCES = ("given", "topic")
STATUSES = ("active", "merged", "split", "retired")


class Reason(Base):
    __tablename__ = "reasons"
    __table_args__ = (UniqueConstraint("tenant_id", "key", name="uq_reasons_tenant_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(100))  # what Conversation.reason holds; stable
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))  # given, topic
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("insight_topics.id", ondelete="SET NULL"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("reasons.id", ondelete="SET NULL"))
    split_from_id: Mapped[int | None] = mapped_column(ForeignKey("reasons.id", ondelete="SET NULL"))
    centroid: Mapped[bytes | None] = mapped_column(LargeBinary)  # parts of a split: where their members lie
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
