from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from deskmate.accounts import service
from deskmate.accounts.deps import current_user, get_session, require_role
from deskmate.accounts.models import User

router = APIRouter(tags=["users"])


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    email: str | None
    role: str
    external_id: str | None


class UserCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    role: str = Field(default="agent", pattern="^(agent|supervisor|admin)$")


class UserCreated(UserRead):
    token: str


@router.get("/me", response_model=UserRead)
def me(user: User = Depends(current_user)):
    """The signed-in user."""
    return user


@router.get("/users", response_model=list[UserRead])
def list_users(user: User = Depends(require_role("supervisor")), session: Session = Depends(get_session)):
    """Users of this workspace."""
    return service.list_users(session, tenant_id=user.tenant_id)


@router.post("/users", response_model=UserCreated, status_code=201)
def create_user(body: UserCreate, user: User = Depends(require_role("admin")), session: Session = Depends(get_session)):
    """Add a user and return their token (shown once)."""
    new = service.create_user(session, tenant_id=user.tenant_id, name=body.name, email=body.email, role=body.role)
    token = service.issue_token(session, user_id=new.id)
    return UserCreated(**UserRead.model_validate(new).model_dump(), token=token)
