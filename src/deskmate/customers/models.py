"""Customers and their records (orders, accounts, subscriptions, cases)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deskmate.db import Base, utcnow


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("tenant_id", "external_id", name="uq_customers_tenant_external"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    tier: Mapped[str | None] = mapped_column(String(32))
    attributes: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    records: Mapped[list["CustomerRecord"]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerRecord.id"
    )


class CustomerRecord(Base):
    __tablename__ = "customer_records"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", "external_id", name="uq_records_tenant_kind_external"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # order, account, subscription, case
    external_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str | None] = mapped_column(String(32))
    amount: Mapped[float | None] = mapped_column(Numeric(12, 2, asdecimal=False))
    currency: Mapped[str | None] = mapped_column(String(3))
    attributes: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="records")


class CustomerRecordRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    external_id: str
    status: str | None
    amount: float | None
    currency: str | None
    attributes: dict
    created_at: datetime


class CustomerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    external_id: str
    name: str | None
    email: str | None
    phone: str | None
    tier: str | None
    attributes: dict
    created_at: datetime


class CustomerDetail(CustomerRead):
    records: list[CustomerRecordRead] = Field(default_factory=list)


class CustomerPage(BaseModel):
    items: list[CustomerRead]
    total: int
    limit: int
    offset: int
