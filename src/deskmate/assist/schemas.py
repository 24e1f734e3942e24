"""What live assist sends the agent's screen after every message: one `AssistUpdate`.

Every suggestion carries a stable `id` ("kb:<article>:<conv>:<seq>", "reply:<entry>:<conv>:<seq>",
"nba:<action>:<conv>:<seq>", "alert:<kind>:<conv>:<seq>") so what the agent does with it (shown,
inserted, edited, dismissed, rated) can be recorded as a feedback event and joined to the outcome.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

SuggestionType = Literal["kb", "reply", "nba", "alert", "intent", "summary"]
FeedbackEventName = Literal["shown", "inserted", "edited", "dismissed", "rated"]

SUGGESTION_PREFIXES: dict[str, str] = {"kb": "kb", "reply": "reply", "nba": "nba", "alert": "alert",
                                       "intent": "intent", "summary": "summary"}


def suggestion_type_of(suggestion_id: str) -> str | None:
    prefix = suggestion_id.split(":", 1)[0]
    return SUGGESTION_PREFIXES.get(prefix)


class Evidence(BaseModel):
    """Why a suggestion is shown: a sentence for the agent plus the figures and sources behind it."""

    text: str
    support: int | None = None  # e.g. 7 (of 9 similar past cases)
    total: int | None = None
    sources: list[str] = Field(default_factory=list)  # source conversation external ids, article ids
    scores: dict[str, float] = Field(default_factory=dict)


class RecordCard(BaseModel):
    kind: str
    external_id: str
    status: str | None = None
    amount: float | None = None
    currency: str | None = None
    detail: str | None = None
    why: str  # "mentioned in this conversation", "open", "most recent"
    score: float


class PastContact(BaseModel):
    conversation_id: int
    started_at: datetime
    reason: str | None
    outcome: str | None
    summary: str | None = None


class ContextCard(BaseModel):
    customer_id: int | None = None
    external_id: str | None = None
    name: str | None = None
    tier: str | None = None
    email: str | None = None
    phone: str | None = None
    records: list[RecordCard] = Field(default_factory=list)
    last_contacts: list[PastContact] = Field(default_factory=list)
    contacts_total: int = 0
    lifetime_sentiment: float | None = None  # mean customer-message score over past contacts, -1..1
    notes: list[str] = Field(default_factory=list)  # "3rd contact in 7 days", "last contact escalated"


class IntentCandidate(BaseModel):
    label: str
    confidence: float


class IntentView(BaseModel):
    id: str
    label: str | None  # None: "not sure yet"
    confidence: float
    display: str
    candidates: list[IntentCandidate] = Field(default_factory=list)
    source: Literal["model", "reason", "none"] = "none"


class KnowledgeSuggestion(BaseModel):
    id: str
    article_id: int
    title: str
    passage_id: int
    passage: str
    score: float
    evidence: Evidence


class ChecklistStep(BaseModel):
    action: str
    state: Literal["done", "next", "left", "skipped"]


class UsualStep(BaseModel):
    """One step of what agents usually do for this reason, mined from history (not policy)."""

    action: str
    state: Literal["done", "next", "left"]
    support: int  # conversations that took this step here
    total: int  # conversations that got this far


class NextBestAction(BaseModel):
    id: str
    action: str | None
    source: Literal["procedure", "history", "none"]
    procedure: str | None = None
    reason: str | None = None
    checklist: list[ChecklistStep] = Field(default_factory=list)  # what policy requires (a procedure)
    usual: list[UsualStep] = Field(default_factory=list)  # what agents usually do (mined), shown apart from it
    alternatives: list[IntentCandidate] = Field(default_factory=list)  # other likely actions with probability
    evidence: Evidence


class SuggestedReply(BaseModel):
    id: str
    text: str
    template: str
    score: float
    missing_values: list[str] = Field(default_factory=list)  # placeholders the agent must still fill
    evidence: Evidence


class Alert(BaseModel):
    id: str
    kind: Literal["sentiment_falling", "repeating", "escalation_risk", "policy_step_skipped", "long_silence"]
    severity: Literal["info", "warning", "critical"]
    reason: str
    at_seq: int


class AssistUpdate(BaseModel):
    conversation_id: int
    message_seq: int
    created_at: datetime
    model_version: str | None = None
    context: ContextCard
    intent: IntentView
    knowledge: list[KnowledgeSuggestion] = Field(default_factory=list)
    next_action: NextBestAction
    replies: list[SuggestedReply] = Field(default_factory=list)
    alerts: list[Alert] = Field(default_factory=list)
    summary: str = ""
    sentiment: list[float] = Field(default_factory=list)  # customer messages so far, -1..1
    timings: dict[str, float] = Field(default_factory=dict)  # ms per stage, plus "total"


class FeedbackCreate(BaseModel):
    conversation_id: int
    suggestion_id: str = Field(min_length=3, max_length=200, pattern=r"^(kb|reply|nba|alert|intent|summary):")
    event: FeedbackEventName
    final_text: str | None = Field(default=None, max_length=20000)
    rating: int | None = Field(default=None, ge=-1, le=5)


class FeedbackRead(BaseModel):
    model_config = {"from_attributes": True}
    id: int
    conversation_id: int
    suggestion_id: str
    suggestion_type: str
    event: str
    final_text: str | None
    rating: int | None
    user_id: int | None
    created_at: datetime


class MessageWithAssist(BaseModel):
    """What `POST /conversations/{id}/messages` answers: the stored message and the update it caused."""

    message: "MessageRead"
    assist: AssistUpdate | None = None


from deskmate.conversations.models import MessageRead  # noqa: E402  (after AssistUpdate: no import cycle)

MessageWithAssist.model_rebuild()
