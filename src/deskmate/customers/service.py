"""Customers and their records, always scoped to one tenant."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from deskmate.customers.models import Customer, CustomerRecord
from deskmate.errors import NotFound


def get_customer(session: Session, *, tenant_id: int, customer_id: int, with_records: bool = False) -> Customer:
    stmt = select(Customer).where(Customer.tenant_id == tenant_id, Customer.id == customer_id)
    if with_records:
        stmt = stmt.options(selectinload(Customer.records))
    customer = session.scalar(stmt)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return customer


def get_by_external_id(session: Session, *, tenant_id: int, external_id: str) -> Customer | None:
    return session.scalar(select(Customer).where(Customer.tenant_id == tenant_id, Customer.external_id == external_id))


def list_customers(
    session: Session, *, tenant_id: int, query: str | None = None, tier: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[Customer], int]:
    stmt = select(Customer).where(Customer.tenant_id == tenant_id)
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(
            or_(func.lower(Customer.name).like(like), func.lower(Customer.email).like(like), Customer.external_id == query)
        )
    if tier:
        stmt = stmt.where(Customer.tier == tier)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.order_by(Customer.id).limit(limit).offset(offset)).all()
    return list(rows), int(total or 0)


def upsert_customer(session: Session, *, tenant_id: int, external_id: str, **fields) -> tuple[Customer, str]:
    """Create or update in place; returns the customer and 'created', 'updated' or 'unchanged'."""
    customer = get_by_external_id(session, tenant_id=tenant_id, external_id=external_id)
    if customer is None:
        customer = Customer(tenant_id=tenant_id, external_id=external_id, **fields)
        session.add(customer)
        session.flush()
        return customer, "created"
    changed = False
    for key, value in fields.items():
        if value is not None and getattr(customer, key) != value:
            setattr(customer, key, value)
            changed = True
    return customer, "updated" if changed else "unchanged"


def upsert_record(
    session: Session, *, tenant_id: int, customer_id: int, kind: str, external_id: str, **fields
) -> tuple[CustomerRecord, str]:
    record = session.scalar(
        select(CustomerRecord).where(
            CustomerRecord.tenant_id == tenant_id, CustomerRecord.kind == kind, CustomerRecord.external_id == external_id
        )
    )
    if record is None:
        record = CustomerRecord(tenant_id=tenant_id, customer_id=customer_id, kind=kind, external_id=external_id, **fields)
        session.add(record)
        session.flush()
        return record, "created"
    changed = False
    for key, value in dict(fields, customer_id=customer_id).items():
        if value is not None and getattr(record, key) != value:
            setattr(record, key, value)
            changed = True
    return record, "updated" if changed else "unchanged"
