"""Shared page plumbing: templates, the signed-in page user, role checks that redirect or refuse.

Every domain's pages use `templates` (one Jinja environment over web/templates, where each
domain keeps its own folder) and `page_user` / `page_role`.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from deskmate.accounts import service as accounts
from deskmate.accounts.deps import SESSION_COOKIE, get_session
from deskmate.accounts.models import User

WEB_DIR = Path(__file__).parent
templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))

NAV = [  # (label, path, minimum role)
    ("Desk", "/desk", "agent"),
    ("Floor", "/floor", "supervisor"),
    ("Knowledge", "/knowledge", "agent"),
    ("Outcomes", "/outcomes", "agent"),
    ("Insights", "/insights", "supervisor"),
    ("Learning", "/learning", "supervisor"),
]


class SignInRequired(Exception):
    def __init__(self, next_path: str):
        self.next_path = next_path


class PageForbidden(Exception):
    def __init__(self, user: User, role: str):
        # A plain snapshot: the request's session is rolled back (and the User expired) before this renders.
        self.user = SimpleNamespace(id=user.id, name=user.name, role=user.role, tenant_id=user.tenant_id)
        self.role = role


def page_user(request: Request, session: Session = Depends(get_session)) -> User:
    token = request.cookies.get(SESSION_COOKIE)
    user = accounts.authenticate(session, token) if token else None
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    return user


def page_role(role: str):
    def check(user: User = Depends(page_user)) -> User:
        if not accounts.has_role(user, role):
            raise PageForbidden(user, role)
        return user

    return check


def nav_for(user: User) -> list[tuple[str, str]]:
    return [(label, path) for label, path, role in NAV if accounts.has_role(user, role)]


def render(request: Request, template: str, user: User | None, status_code: int = 200, **context):
    context.update(request=request, user=user, nav=nav_for(user) if user else [], active=request.url.path)
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def login_url(next_path: str) -> str:
    return f"/login?next={quote(next_path, safe='')}"
