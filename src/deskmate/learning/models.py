"""Tables the learning loop owns: feedback joined to outcomes, model versions, intent corrections, gap drafts.

Assist records raw events (`assist_feedback_events`: one row per thing an agent did). Learning keeps
one row per suggestion per conversation (`learning_feedback_outcomes`): every event folded into
flags and times, plus the conversation's result once it closes (outcome, sentiment shift,
resolution quality) and the reward the ranker learns from. Rows are derived data: `deskmate learn
retrain` can rebuild them all from the raw events.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from deskmate.db import Base, utcnow


class FeedbackOutcome(Base):
    __tablename__ = "learning_feedback_outcomes"
    __table_args__ = (
        UniqueConstraint("conversation_id", "suggestion_id", name="uq_learning_feedback_suggestion"),
        Index("ix_learning_feedback_tenant_id", "tenant_id", "id"),
        Index("ix_learning_feedback_tenant_kind", "tenant_id", "kind", "reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    suggestion_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # kb, reply, nba, alert, intent, summary
    # What the suggestion was, stable across model versions: an article id, a reply's template key,
    # "<last action>><action>" for a next action. None when it could not be resolved.
    key: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(100))  # the conversation's final reason for contact
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    seq: Mapped[int | None] = mapped_column(Integer)  # the message after which it was suggested
    shown: Mapped[bool] = mapped_column(Boolean, default=True)
    accepted: Mapped[bool] = mapped_column(Boolean, default=False)  # inserted / clicked, or edited then sent
    edited: Mapped[bool] = mapped_column(Boolean, default=False)
    dismissed: Mapped[bool] = mapped_column(Boolean, default=False)
    rating: Mapped[int | None] = mapped_column(Integer)
    final_text: Mapped[str | None] = mapped_column(Text)
    first_event_at: Mapped[datetime | None]
    acted_at: Mapped[datetime | None]
    seconds_to_act: Mapped[float | None] = mapped_column(Float)
    # Joined when the conversation closes.
    outcome: Mapped[str | None] = mapped_column(String(16))
    resolved: Mapped[bool | None] = mapped_column(Boolean)
    sentiment_shift: Mapped[float | None] = mapped_column(Float)
    resolution_quality: Mapped[float | None] = mapped_column(Float)
    quality_score: Mapped[float | None] = mapped_column(Float)
    reward: Mapped[float | None] = mapped_column(Float)  # accepted AND resolved, scaled by the sentiment shift
    joined_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelVersion(Base):
    """One ranker version: its parameters and stats live on disk, its replay scores and fate here."""

    __tablename__ = "learning_model_versions"
    __table_args__ = (UniqueConstraint("tenant_id", "version", name="uq_learning_model_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="candidate")  # candidate, current, retired, rejected
    params: Mapped[dict] = mapped_column(default=dict)
    scores: Mapped[dict] = mapped_column(default=dict)  # this version's replay figures
    baseline: Mapped[dict] = mapped_column(default=dict)  # the version it was compared with, same replay
    decision: Mapped[str] = mapped_column(Text, default="")  # why it was promoted or not
    feedback_rows: Mapped[int] = mapped_column(Integer, default=0)
    watermark: Mapped[int] = mapped_column(Integer, default=0)  # last feedback row folded into its stats
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    promoted_at: Mapped[datetime | None]


class IntentCorrection(Base):
    """An agent's relabel of a conversation's reason: training data for the next intent model."""

    __tablename__ = "learning_intent_corrections"
    __table_args__ = (Index("ix_learning_corrections_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    old_reason: Mapped[str | None] = mapped_column(String(100))
    new_reason: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text, default="")  # the customer's opening messages (already redacted)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16), default="api")  # api (POST /learning/corrections), relabel
    used_in: Mapped[str | None] = mapped_column(String(64))  # intent model version that trained on it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GapDraft(Base):
    """A knowledge gap and the draft article assembled for it, waiting for a supervisor."""

    __tablename__ = "learning_gap_drafts"
    __table_args__ = (UniqueConstraint("tenant_id", "topic", name="uq_learning_gap_topic"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(100))  # the reason for contact (or insights topic) with the gap
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, published, dismissed
    signals: Mapped[dict] = mapped_column(default=dict)  # why it is a gap: counts of dismissed / absent / resolved
    score: Mapped[float] = mapped_column(Float, default=0.0)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    sources: Mapped[list] = mapped_column(default=list)  # [{conversation_id, external_id, seqs}]
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
