"""Reasons API: the catalogue, reasons from topics on demand, and a supervisor's rename / merge / split.

Curating reasons re-labels conversations across every agent, so it needs the supervisor role.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from deskmate.accounts.deps import get_session, require_role
from deskmate.accounts.models import User
from deskmate.reasons import curation, service

router = APIRouter(prefix="/reasons", tags=["reasons"])
supervisor = require_role("supervisor")
Ref = Path(..., max_length=100, description="the reason's id or key")


class Rename(BaseModel):
    name: str = Field(..., min_length=1, max_length=curation.MAX_NAME)


class Merge(BaseModel):
    into: str = Field(..., min_length=1, max_length=100, description="id or key of the reason that absorbs this one")


class Split(BaseModel):
    parts: int | None = Field(default=None, ge=2, le=curation.MAX_PARTS, description="how many parts (default: estimated)")


@router.get("")
def reason_list(all: bool = False, user: User = Depends(supervisor), session: Session = Depends(get_session)):
    """The workspace's reasons, busiest first (with merged, split and retired ones when all=true)."""
    return {"items": curation.list_reasons(session, user.tenant_id, include_inactive=all)}


@router.post("/assign")
def assign(request: Request, user: User = Depends(supervisor)):
    """Give conversations without a given reason their topic's reason (topics must be fitted)."""
    return service.assign_reasons_from_topics(request.app.state.sessionmaker, user.tenant_id)


@router.patch("/{ref}")
def rename(body: Rename, ref: str = Ref, user: User = Depends(supervisor), session: Session = Depends(get_session)):
    """Rename a reason (conversations keep its key)."""
    reason = curation.rename_reason(session, user.tenant_id, ref, body.name)
    return curation.reason_dict(reason)


@router.post("/{ref}/merge")
def merge(body: Merge, ref: str = Ref, user: User = Depends(supervisor), session: Session = Depends(get_session)):
    """Merge this reason into another: its conversations follow, and so do later ones."""
    target = curation.merge_reasons(session, user.tenant_id, ref, body.into)
    return curation.reason_dict(target)


@router.post("/{ref}/split")
def split(body: Split, ref: str = Ref, user: User = Depends(supervisor), session: Session = Depends(get_session)):
    """Split a reason into parts by re-clustering its conversations; each part becomes a reason."""
    parts = curation.split_reason(session, user.tenant_id, ref, parts=body.parts)
    return {"parts": [curation.reason_dict(p) for p in parts]}
