"""FastAPI dependencies: a session per request, the signed-in user, role checks."""

from __future__ import annotations

from typing import Iterator

from fastapi import Depends, HTTPException, Request, WebSocket, status
from sqlalchemy.orm import Session

from deskmate.accounts import service
from deskmate.accounts.models import User

SESSION_COOKIE = "deskmate_session"


def get_session(request: Request) -> Iterator[Session]:
    session = request.app.state.sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def token_from_request(request: Request | WebSocket) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:  # the cookie holds the token itself: HttpOnly, SameSite=Lax, set by the sign-in page
        return cookie
    if isinstance(request, WebSocket):
        return request.query_params.get("token")
    return None


def current_user(request: Request, session: Session = Depends(get_session)) -> User:
    token = token_from_request(request)
    user = service.authenticate(session, token) if token else None
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing or invalid token", headers={"WWW-Authenticate": "Bearer"}
        )
    return user


def require_role(role: str):
    def check(user: User = Depends(current_user)) -> User:
        if not service.has_role(user, role):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the {role} role")
        return user

    return check
