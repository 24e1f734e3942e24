"""Sign-in, sign-out, static files and the landing redirect; other domains add their own pages."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session

from deskmate.accounts import service as accounts
from deskmate.accounts.deps import SESSION_COOKIE, get_session
from deskmate.accounts.models import User
from deskmate.web.pages import WEB_DIR, PageForbidden, SignInRequired, login_url, page_user, render

router = APIRouter(include_in_schema=False)


def _safe_next(next_path: str | None) -> str:
    # Only same-site paths: an open redirect after sign-in would hand tokens' sessions to another site.
    if not next_path or not next_path.startswith("/") or next_path.startswith("//"):
        return "/"
    return next_path


@router.get("/login")
def login_page(request: Request, next: str | None = None):
    return render(request, "login.html", None, next=_safe_next(next), error=None)


@router.post("/login")
def login(request: Request, token: str = Form(default=""), next: str = Form(default="/"),
          session: Session = Depends(get_session)):
    user = accounts.authenticate(session, token.strip())
    if user is None:
        return render(request, "login.html", None, status_code=401, next=_safe_next(next),
                      error="That token was not recognised. Ask an admin for a token (deskmate users add).")
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, token.strip(), httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", max_age=12 * 3600)
    return response


@router.post("/logout")
def logout():
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
def landing(user: User = Depends(page_user)):
    return RedirectResponse("/floor" if accounts.has_role(user, "supervisor") else "/desk", status_code=303)


@router.get("/static/vendor/plotly.min.js")
def plotly_js():
    """Charts render offline: plotly's bundle ships inside the plotly Python package."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    return FileResponse(path, media_type="application/javascript", headers={"Cache-Control": "max-age=86400"})


def setup_app(app) -> None:
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired):
        return RedirectResponse(login_url(exc.next_path), status_code=303)

    @app.exception_handler(PageForbidden)
    async def _forbidden(request: Request, exc: PageForbidden):
        return render(request, "forbidden.html", exc.user, status_code=403, role=exc.role)
