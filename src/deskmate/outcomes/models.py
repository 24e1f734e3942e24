"""One score row per conversation: what the conversation shows about its outcome, the customer and the agent.

Everything here is derived data: it can be recomputed from the conversation at any time
(`deskmate outcomes score --all`), so the row keeps the model version that produced it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from deskmate.db import Base, utcnow


class ConversationScore(Base):
    __tablename__ = "conversation_scores"
    __table_args__ = (
        UniqueConstraint("conversation_id", name="uq_conversation_scores_conversation"),
        Index("ix_conversation_scores_tenant_agent", "tenant_id", "agent_id"),
        Index("ix_conversation_scores_tenant_started", "tenant_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    # Copied from the conversation so period reports filter one table without a join.
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[datetime | None]
    handle_seconds: Mapped[float | None] = mapped_column(Float)

    predicted_outcome: Mapped[str] = mapped_column(String(16))
    outcome_probability: Mapped[float] = mapped_column(Float)
    outcome_probabilities: Mapped[dict] = mapped_column(default=dict)
    resolution_source: Mapped[str] = mapped_column(String(16))  # "model" or "rules"
    reopened: Mapped[bool] = mapped_column(Boolean, default=False)
    reopened_by: Mapped[int | None] = mapped_column(Integer)  # the later conversation's id

    sentiment_start: Mapped[float | None] = mapped_column(Float)
    sentiment_end: Mapped[float | None] = mapped_column(Float)
    sentiment_shift: Mapped[float | None] = mapped_column(Float)
    sentiment_lowest: Mapped[float | None] = mapped_column(Float)
    effort: Mapped[dict] = mapped_column(default=dict)
    resolution_quality: Mapped[float] = mapped_column(Float)
    resolution_quality_parts: Mapped[dict] = mapped_column(default=dict)

    quality_score: Mapped[float | None] = mapped_column(Float)
    policy_adherence: Mapped[str | None] = mapped_column(String(8))  # pass / fail / na, for fast team reports
    criteria: Mapped[list] = mapped_column(default=list)
    summary: Mapped[dict] = mapped_column(default=dict)
    summary_text: Mapped[str] = mapped_column(Text, default="")
    model_version: Mapped[str] = mapped_column(String(64))
    scored_at: Mapped[datetime] = mapped_column(default=utcnow)


# ---- schemas -------------------------------------------------------------------------

Verdict = Literal["pass", "fail", "na"]


class Evidence(BaseModel):
    seq: int
    text: str


class CriterionResult(BaseModel):
    key: str
    label: str
    weight: float
    result: Verdict
    note: str = ""
    evidence: list[Evidence] = Field(default_factory=list)


class ConversationScoreRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    conversation_id: int
    agent_id: int | None
    reason: str | None
    started_at: datetime | None
    handle_seconds: float | None
    predicted_outcome: str
    outcome_probability: float
    outcome_probabilities: dict
    resolution_source: str
    reopened: bool
    reopened_by: int | None
    sentiment_start: float | None
    sentiment_end: float | None
    sentiment_shift: float | None
    sentiment_lowest: float | None
    effort: dict
    resolution_quality: float
    resolution_quality_parts: dict
    quality_score: float | None
    policy_adherence: str | None
    criteria: list[CriterionResult]
    summary: dict
    summary_text: str
    model_version: str
    scored_at: datetime


class ScoreRequest(BaseModel):
    all: bool = Field(default=False, description="Rescore every conversation, even those already scored.")
    since: datetime | None = None
    conversation_ids: list[int] | None = Field(default=None, max_length=10_000)
    retrain: bool = Field(default=False, description="Refit the resolution model on the labelled history first.")


class ScoreRun(BaseModel):
    scored: int
    skipped: int
    model_version: str
    resolution_source: str


# ---- report schemas ------------------------------------------------------------------


class Distribution(BaseModel):
    mean: float | None
    median: float | None
    p25: float | None
    p75: float | None
    histogram: list[int] = Field(description="conversations per 10-point bucket: 0-9, 10-19, …, 90-100")


class CriterionRate(BaseModel):
    key: str
    label: str
    passed: int
    failed: int
    not_applicable: int
    pass_rate: float | None


class ExampleConversation(BaseModel):
    conversation_id: int
    agent_id: int | None = None
    agent_name: str | None = None
    reason: str | None
    started_at: datetime | None
    quality_score: float | None
    result: str
    note: str = ""
    evidence: list[Evidence] = Field(default_factory=list)


class CriterionExamples(CriterionRate):
    examples: list[ExampleConversation] = Field(default_factory=list)


class WeekTrend(BaseModel):
    week: str  # ISO week, e.g. 2026-W31
    week_start: str
    conversations: int
    resolution_rate: float | None
    reopen_rate: float | None
    quality_mean: float | None
    policy_adherence: float | None
    sentiment_shift: float | None


class Headline(BaseModel):
    conversations: int
    resolution_rate: float | None
    reopen_rate: float | None
    quality: Distribution
    resolution_quality: Distribution
    sentiment_shift: float | None
    policy_adherence: float | None
    handle_minutes_median: float | None = Field(description="shown beside the outcome metrics, never scored")


class AgentRef(BaseModel):
    id: int
    name: str


class AgentScorecard(Headline):
    agent: AgentRef
    since: datetime | None
    until: datetime | None
    criteria: list[CriterionRate]
    strongest: list[CriterionExamples]
    weakest: list[CriterionExamples]
    trend: list[WeekTrend]
    team: Headline


class AgentRow(Headline):
    agent: AgentRef


class TeamScorecard(Headline):
    since: datetime | None
    until: datetime | None
    criteria: list[CriterionRate]
    trend: list[WeekTrend]
    agents: list[AgentRow]


class CoachingItem(BaseModel):
    criterion: str
    label: str
    agent_pass_rate: float | None
    team_pass_rate: float | None
    failed: int
    agent_example: ExampleConversation
    peer_example: ExampleConversation | None


class Coaching(BaseModel):
    agent: AgentRef
    since: datetime | None
    items: list[CoachingItem]
