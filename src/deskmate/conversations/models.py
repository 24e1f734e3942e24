"""Conversations and their messages; agent actions are messages of kind "action"."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deskmate.db import Base, utcnow


class ConversationStatus(StrEnum):
    open = "open"
    pending = "pending"
    closed = "closed"


class Outcome(StrEnum):
    resolved = "resolved"
    unresolved = "unresolved"
    escalated = "escalated"
    abandoned = "abandoned"


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "source", "external_id", name="uq_conversations_source_external"),
        Index("ix_conversations_tenant_started", "tenant_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(32))  # abcd, jsonl, csv, zendesk, chatwoot, api, demo
    external_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(32), default="chat")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    subject: Mapped[str | None] = mapped_column(String(500))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=ConversationStatus.open)
    outcome: Mapped[str | None] = mapped_column(String(16))
    # Reason for contact as the source labelled it (ABCD subflow, a Zendesk tag, an agent's wrap-up).
    reason: Mapped[str | None] = mapped_column(String(100), index=True)
    # "topic" when the reason was found by topics (deskmate.reasons), else empty: the source or an agent gave it.
    reason_source: Mapped[str | None] = mapped_column(String(16))
    summary: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict] = mapped_column(default=dict)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    messages: Mapped[list["Message"]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", order_by="Message.seq"
    )
    labels: Mapped[list["ConversationLabel"]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class ConversationLabel(Base):
    """Labels live in their own table so filtering by label is an indexed join on any database."""

    __tablename__ = "conversation_labels"
    __table_args__ = (UniqueConstraint("conversation_id", "label", name="uq_conversation_label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(100), index=True)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))  # customer, agent, system
    kind: Mapped[str] = mapped_column(String(16), default="text")  # text, action
    text: Mapped[str] = mapped_column(Text, default="")
    action: Mapped[str | None] = mapped_column(String(64))  # e.g. verify-identity, offer-refund
    action_values: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


# ---- schemas -------------------------------------------------------------------------

Role = Literal["customer", "agent", "system"]
Kind = Literal["text", "action"]


class MessageCreate(BaseModel):
    role: Role
    kind: Kind = "text"
    text: str = Field(default="", max_length=20000)
    action: str | None = Field(default=None, max_length=64)
    action_values: dict = Field(default_factory=dict)
    created_at: datetime | None = None

    @model_validator(mode="after")
    def _text_or_action(self):
        if self.kind == "text" and not self.text.strip():
            raise ValueError("a text message needs text")
        if self.kind == "action" and not self.action:
            raise ValueError("an action message needs its action name")
        return self


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    seq: int
    role: str
    kind: str
    text: str
    action: str | None
    action_values: dict
    created_at: datetime


class ConversationCreate(BaseModel):
    external_id: str | None = Field(default=None, max_length=200)
    channel: str = Field(default="chat", max_length=32)
    customer_id: int | None = None
    customer_external_id: str | None = Field(default=None, max_length=200)
    agent_id: int | None = None
    subject: str | None = Field(default=None, max_length=500)
    reason: str | None = Field(default=None, max_length=100)
    labels: list[str] = Field(default_factory=list)
    started_at: datetime | None = None
    messages: list[MessageCreate] = Field(default_factory=list)


class ConversationUpdate(BaseModel):
    status: Literal["open", "pending", "closed"] | None = None
    outcome: Literal["resolved", "unresolved", "escalated", "abandoned"] | None = None
    reason: str | None = Field(default=None, max_length=100)
    summary: str | None = Field(default=None, max_length=20000)
    labels: list[str] | None = None
    agent_id: int | None = None


class ConversationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    source: str
    external_id: str
    channel: str
    customer_id: int | None
    agent_id: int | None
    subject: str | None
    started_at: datetime
    ended_at: datetime | None
    status: str
    outcome: str | None
    reason: str | None
    summary: str | None
    message_count: int
    labels: list[str] = Field(default_factory=list)

    @field_validator("labels", mode="before")
    @classmethod
    def _label_names(cls, v):
        return [getattr(x, "label", x) for x in (v or [])]


class ConversationDetail(ConversationRead):
    messages: list[MessageRead] = Field(default_factory=list)


class ConversationPage(BaseModel):
    items: list[ConversationRead]
    total: int
    limit: int
    offset: int
