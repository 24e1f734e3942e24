"""Tenants, users and tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskmate.accounts.models import ROLE_RANK, ApiToken, Role, Tenant, User
from deskmate.db import utcnow
from deskmate.errors import Conflict, InvalidInput, NotFound

TOKEN_PREFIX = "dm_"
# A token's last use is written at most this often: otherwise every authenticated read is a write,
# and on SQLite every request of a busy desk would queue for the one writer.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def get_tenant_by_slug(session: Session, slug: str) -> Tenant | None:
    return session.scalar(select(Tenant).where(Tenant.slug == slug))


def get_or_create_tenant(session: Session, *, slug: str, name: str | None = None) -> Tenant:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", slug):
        raise InvalidInput(f"tenant slug {slug!r} must be lower-case letters, digits, '-' or '_'")
    tenant = get_tenant_by_slug(session, slug)
    if tenant is None:
        tenant = Tenant(slug=slug, name=name or slug, settings={"redact_pii": True})
        session.add(tenant)
        session.flush()
    return tenant


def require_tenant(session: Session, slug: str) -> Tenant:
    tenant = get_tenant_by_slug(session, slug)
    if tenant is None:
        raise NotFound(f"no workspace {slug!r}: run 'deskmate init' or 'deskmate demo' first")
    return tenant


def create_user(session: Session, *, tenant_id: int, name: str, email: str | None = None, role: str = "agent") -> User:
    if role not in Role.__members__:
        raise InvalidInput(f"role must be one of {', '.join(Role)}; got {role!r}")
    if email and session.scalar(select(User).where(User.tenant_id == tenant_id, User.email == email)):
        raise Conflict(f"a user with email {email} already exists")
    user = User(tenant_id=tenant_id, name=name, email=email, role=role)
    session.add(user)
    session.flush()
    return user


def get_or_create_agent(session: Session, *, tenant_id: int, external_id: str, name: str | None = None) -> User:
    """Agents named in imported history become users who cannot sign in until given a token."""
    user = session.scalar(select(User).where(User.tenant_id == tenant_id, User.external_id == external_id))
    if user is None:
        user = User(tenant_id=tenant_id, external_id=external_id, name=name or external_id, role=Role.agent)
        session.add(user)
        session.flush()
    elif name and user.name != name:
        user.name = name
    return user


def issue_token(session: Session, *, user_id: int) -> str:
    """Create a token and return it; only its hash is kept, so this is the one time it is seen."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user_id, token_hash=hash_token(token), prefix=token[:10]))
    session.flush()
    return token


def authenticate(session: Session, token: str) -> User | None:
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token), ApiToken.revoked.is_(False)))
    if row is None or not row.user.active:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_TOUCH_INTERVAL:
        row.last_used_at = now
    return row.user


def has_role(user: User, role: str) -> bool:
    return ROLE_RANK[Role(user.role)] >= ROLE_RANK[Role(role)]


def list_users(session: Session, *, tenant_id: int) -> list[User]:
    return list(session.scalars(select(User).where(User.tenant_id == tenant_id).order_by(User.id)))


def get_user(session: Session, *, tenant_id: int, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.tenant_id != tenant_id:
        raise NotFound(f"no user {user_id}")
    return user
