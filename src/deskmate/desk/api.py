"""The agent desk, the customer simulator and the supervisor floor (pages, floor state, floor socket)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from deskmate.accounts import service as accounts
from deskmate.accounts.deps import get_session, require_role
from deskmate.accounts.models import User
from deskmate.desk import service
from deskmate.web.pages import page_role, page_user, render

router = APIRouter()


@router.get("/desk", include_in_schema=False)
def desk_page(request: Request, c: int | None = None, watch: int = 0, user: User = Depends(page_user)):
    # Watching another agent's conversation is a supervisor's right; agents always get their own desk.
    watching = bool(watch) and accounts.has_role(user, "supervisor")
    return render(request, "desk/desk.html", user, open_id=c, watch=watching)


@router.get("/simulator", include_in_schema=False)
def simulator_page(request: Request, user: User = Depends(page_user)):
    return render(request, "desk/simulator.html", user)


@router.get("/floor", include_in_schema=False)
def floor_page(request: Request, user: User = Depends(page_role("supervisor"))):
    return render(request, "desk/floor.html", user)


@router.get("/floor/state", tags=["floor"])
def floor_state(request: Request, user: User = Depends(require_role("supervisor")), session: Session = Depends(get_session)):
    """Every live conversation with intent, sentiment trend, time open and alerts, riskiest first."""
    settings = request.app.state.settings
    rows = [
        service.floor_row(conv, customer=customer, agent=agent,
                          update=_current_update(session, settings, user.tenant, conv))
        for conv, customer, agent in service.live_conversations(session, tenant_id=user.tenant_id)
    ]
    rows.sort(key=lambda r: r["risk"], reverse=True)
    return {"items": rows}


def _current_update(session: Session, settings, tenant, conversation) -> dict | None:
    """The assist panel's latest state; a conversation assist cannot read yet still shows on the floor."""
    from deskmate.assist.service import current_update

    try:
        return current_update(session, settings=settings, tenant=tenant, conversation=conversation).model_dump(mode="json")
    except Exception:  # noqa: BLE001 - one unreadable conversation must not blank the whole floor
        logging.getLogger("deskmate.desk").exception("no assist state for conversation %s", conversation.id)
        return None
