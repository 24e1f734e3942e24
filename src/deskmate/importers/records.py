"""Deskmate's canonical conversation record (docs/formats.md): every conversation source maps to it.

Field limits match the store's columns, so a record that validates here can never
fail on PostgreSQL's VARCHAR lengths half-way through a batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic import AfterValidator, StringConstraints


def _id_text(value: Any) -> Any:
    """Sources give ids as numbers (Zendesk, Chatwoot) or strings; the store keys them as text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _utc(value: datetime) -> datetime:
    """A time without a zone is taken as UTC, the way exports from support desks write them."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _none_if_blank(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


Id = Annotated[str, BeforeValidator(_id_text), StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Time = Annotated[datetime, AfterValidator(_utc)]


def Text(max_length: int):  # noqa: N802 - reads as a type in the models below
    return Annotated[
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=max_length)] | None,
        BeforeValidator(_none_if_blank),
    ]


class Strict(BaseModel):
    # A typo such as "entires" must be an error, not a conversation silently without messages.
    model_config = ConfigDict(extra="forbid")


class CustomerRecordIn(Strict):
    kind: Literal["order", "account", "subscription", "case"] = "order"
    id: Id
    status: Text(32) = None
    amount: float | None = Field(default=None, gt=-1e10, lt=1e10)  # the column is NUMERIC(12, 2)
    currency: Annotated[str | None, StringConstraints(min_length=3, max_length=3, to_upper=True)] = None
    attributes: dict = Field(default_factory=dict)


class CustomerIn(Strict):
    id: Id
    name: Text(200) = None
    email: Text(320) = None
    phone: Text(64) = None
    tier: Text(32) = None
    attributes: dict = Field(default_factory=dict)
    records: list[CustomerRecordIn] = Field(default_factory=list)


class AgentIn(Strict):
    id: Id
    name: Text(200) = None
    email: Text(320) = None


class Entry(Strict):
    """One turn: a message (role + text) or an agent action (action + values)."""

    id: Id | None = None  # the source's message id, when it has one
    role: Literal["customer", "agent", "system"] | None = None
    text: str = Field(default="", max_length=100_000)
    action: Annotated[str | None, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] = None
    values: dict = Field(default_factory=dict)
    time: Time | None = None

    @field_validator("text")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        # PostgreSQL text cannot hold NUL; some exports carry them from binary attachments
        return value.replace("\x00", "") if "\x00" in value else value

    @model_validator(mode="after")
    def _message_or_action(self):
        if self.action is None:
            if self.role is None:
                raise ValueError("role is required: customer, agent or system")
            if not self.text.strip():
                raise ValueError("a message needs text (or an action)")
        elif self.role is None:
            self.role = "agent"
        return self


class ConversationRecord(Strict):
    id: Id
    source: Annotated[str | None, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)] = None
    channel: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)] = "chat"
    started_at: Time | None = None
    ended_at: Time | None = None
    status: Literal["open", "pending", "closed"] | None = None
    outcome: Literal["resolved", "unresolved", "escalated", "abandoned"] | None = None
    reason: Text(100) = None
    labels: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]] = Field(
        default_factory=list
    )
    subject: Text(500) = None
    summary: Text(20_000) = None
    customer: CustomerIn | None = None
    agent: AgentIn | None = None
    entries: list[Entry] = Field(default_factory=list)
    attributes: dict = Field(default_factory=dict)

    @field_validator("labels", mode="before")
    @classmethod
    def _labels_list(cls, value):
        return [] if value is None else value


@dataclass(slots=True)
class ConversationImport:
    """A validated record on its way to the store, with how it combines with what is stored."""

    record: ConversationRecord
    source: str
    # Event sources (Chatwoot) send pieces of a conversation: merge them with what is
    # stored (messages by their source id) instead of replacing it.
    partial: bool = False
    # When the status in `record` was observed; with `partial`, only a newer observation changes it.
    status_at: datetime | None = None

    @property
    def key(self) -> tuple:
        return ("conversation", self.source, self.record.id)


def describe_error(exc: ValidationError, locate=None, limit: int = 3) -> str:
    """A pydantic error as one readable line: "entries.2.role: Input should be ...".

    `locate(loc)` may name an error's place in the source's own terms (a CSV row's column).
    """
    parts = []
    for err in exc.errors()[:limit]:
        loc = tuple(err.get("loc", ()))
        label = (locate(loc) if locate else None) or ".".join(str(p) for p in loc) or "record"
        msg = err.get("msg", "invalid").removeprefix("Value error, ")
        parts.append(f"{label}: {msg}")
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def validate_conversation(data: Any, *, default_source: str, locate=None) -> ConversationImport:
    """Raise ValueError with a readable reason, or return the record ready for the writer."""
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    try:
        record = ConversationRecord.model_validate(data)
    except ValidationError as exc:
        raise ValueError(describe_error(exc, locate)) from None
    return ConversationImport(record=record, source=record.source or default_source)
