"""API shapes of the learning loop."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class VersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    version: str
    status: str
    params: dict
    scores: dict
    baseline: dict
    decision: str
    feedback_rows: int
    watermark: int
    created_at: datetime
    promoted_at: datetime | None


class Versions(BaseModel):
    current: str | None = Field(description="the version live assist ranks with (None: defaults, no retrain yet)")
    items: list[VersionRead]


class RollbackRequest(BaseModel):
    version: str | None = Field(default=None, max_length=64, description="default: the previously current version")


class GapRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    topic: str
    status: str
    score: float
    signals: dict
    title: str
    body: str = Field(description="the draft as assembled (the editable text is the article's)")
    sources: list[dict]
    article_id: int | None
    created_at: datetime
    updated_at: datetime


class GapDetail(GapRead):
    article_title: str | None = None
    article_body: str | None = None
    article_status: str | None = None


class PublishRequest(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    body: str | None = Field(default=None, min_length=1, max_length=200_000)


class CorrectionCreate(BaseModel):
    conversation_id: int
    reason: str = Field(min_length=1, max_length=100)


class CorrectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    conversation_id: int
    old_reason: str | None
    new_reason: str
    text: str
    user_id: int | None
    source: str
    used_in: str | None
    created_at: datetime


class CorrectionPage(BaseModel):
    items: list[CorrectionRead]
    total: int


class IntentCreate(BaseModel):
    label: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")
    examples: list[str] = Field(min_length=1, max_length=200)


class IntentAdded(BaseModel):
    label: str
    model_version: str
    examples: int


class ReasonCount(BaseModel):
    reason: str
    conversations: int
