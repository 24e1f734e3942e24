from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from deskmate.accounts.deps import current_user, get_session
from deskmate.accounts.models import User
from deskmate.customers import service
from deskmate.customers.models import CustomerDetail, CustomerPage, CustomerRead

router = APIRouter(prefix="/customers", tags=["customers"])


@router.get("", response_model=CustomerPage)
def list_customers(
    q: str | None = Query(default=None, max_length=200),
    tier: str | None = Query(default=None, max_length=32),
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0),
    user: User = Depends(current_user),
    session: Session = Depends(get_session),
):
    """Customers of this workspace, searchable by name, email or external id."""
    rows, total = service.list_customers(session, tenant_id=user.tenant_id, query=q, tier=tier, limit=limit, offset=offset)
    return CustomerPage(items=[CustomerRead.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/{customer_id}", response_model=CustomerDetail)
def get_customer(customer_id: int, user: User = Depends(current_user), session: Session = Depends(get_session)):
    """One customer with their orders, accounts and subscriptions."""
    return service.get_customer(session, tenant_id=user.tenant_id, customer_id=customer_id, with_records=True)
