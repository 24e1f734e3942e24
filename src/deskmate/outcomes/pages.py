"""Outcome pages: a conversation's scorecard, an agent's scorecard with coaching, the team view with charts.

Paths sit beside the JSON API without sharing any: /outcomes (the team view; agents go to their own
page), /outcomes/agent/{id}, /outcomes/conversation/{id}. Agents see their own; supervisors everyone's.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from deskmate.accounts.deps import get_session
from deskmate.accounts.models import User
from deskmate.accounts.service import has_role
from deskmate.conversations.service import get_conversation
from deskmate.errors import DeskmateError, Forbidden
from deskmate.outcomes import coaching, reports, service
from deskmate.web.pages import PageForbidden, page_user, render

router = APIRouter(include_in_schema=False)
PERIODS = [("30d", "last 30 days"), ("90d", "last 90 days"), ("", "all history")]


def _period(since: str):
    """(datetime or None, error message or None): a bad period shows as a message, not an error page."""
    try:
        return service.parse_since(since or None, field="since"), None
    except DeskmateError as exc:
        return None, str(exc)


def _may_see(user: User, agent_id: int | None) -> None:
    try:
        service.check_can_view_agent(user, agent_id)
    except Forbidden:
        raise PageForbidden(user, "supervisor") from None


@router.get("/outcomes")
def team_page(request: Request, since: str = "90d", user: User = Depends(page_user),
              session: Session = Depends(get_session)):
    """The team view for supervisors; an agent lands on their own scorecard."""
    if not has_role(user, "supervisor"):
        return RedirectResponse(f"/outcomes/agent/{user.id}", status_code=303)
    start, error = _period(since)
    card = reports.team_scorecard(session, tenant_id=user.tenant_id, since=start)
    return render(request, "outcomes/team.html", user, card=card.model_dump(mode="json"), since=since, periods=PERIODS,
                  error=error)


@router.get("/outcomes/agent/{agent_id}")
def agent_page(request: Request, agent_id: int, since: str = "90d", user: User = Depends(page_user),
               session: Session = Depends(get_session)):
    _may_see(user, agent_id)
    start, error = _period(since)
    card = reports.agent_scorecard(session, tenant_id=user.tenant_id, agent_id=agent_id, since=start)
    tips = coaching.coaching_for(session, tenant_id=user.tenant_id, agent_id=agent_id, since=start)
    return render(request, "outcomes/agent.html", user, card=card.model_dump(mode="json"),
                  coaching=tips.model_dump(mode="json"), since=since, periods=PERIODS, error=error,
                  is_supervisor=has_role(user, "supervisor"))


@router.get("/outcomes/conversation/{conversation_id}")
def conversation_page(request: Request, conversation_id: int, since: str = "90d", user: User = Depends(page_user),
                      session: Session = Depends(get_session)):
    conversation = get_conversation(session, tenant_id=user.tenant_id, conversation_id=conversation_id, with_messages=True)
    _may_see(user, conversation.agent_id)
    row = service.get_conversation_score(session, settings=request.app.state.settings, tenant_id=user.tenant_id,
                                         conversation_id=conversation_id)
    from deskmate.nlp.sentiment import score_message

    messages = [{"seq": m.seq, "role": m.role, "kind": m.kind, "text": m.text, "action": m.action,
                 "values": m.action_values, "at": m.created_at.strftime("%H:%M:%S"),
                 "sentiment": score_message(m.text).score if m.role == "customer" and m.kind == "text" else None}
                for m in conversation.messages]
    cited: dict[int, list[str]] = {}
    for c in row.criteria:
        for e in c.get("evidence", []):
            cited.setdefault(e["seq"], []).append(f"{c['label']}: {c['result']}")
    _, error = _period(since)  # the period the agent page was showing, kept for the way back
    return render(request, "outcomes/conversation.html", user, conversation=conversation, score=row, messages=messages,
                  cited=cited, since="90d" if error else since)
