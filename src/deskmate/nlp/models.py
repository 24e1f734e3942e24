"""What the language layer writes to the store: which intent model version labelled which message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from deskmate.db import Base, utcnow


class IntentPredictionRecord(Base):
    """One intent answer as shown (or withheld): label None means "no known intent" at that confidence.

    Keeping the model version on every row lets a supervisor trace a wrong suggestion to the
    model that produced it, and lets insights compare versions after a retrain.
    """

    __tablename__ = "intent_predictions"
    __table_args__ = (Index("ix_intent_predictions_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    label: Mapped[str | None] = mapped_column(String(100), index=True)
    confidence: Mapped[float] = mapped_column(Float)
    model_version: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
