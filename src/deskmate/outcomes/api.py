"""Outcomes API: a conversation's scorecard, bulk scoring, agent and team scorecards, coaching.

Agents may read their own scorecards and coaching; supervisors read everyone's.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from deskmate.accounts.deps import current_user, get_session, require_role
from deskmate.accounts.models import User
from deskmate.outcomes import coaching, reports, service
from deskmate.outcomes.history import score_history
from deskmate.outcomes.models import (
    AgentScorecard,
    Coaching,
    ConversationScoreRead,
    ScoreRequest,
    ScoreRun,
    TeamScorecard,
)

router = APIRouter(tags=["outcomes"])



def _period(what: str):
    # One Query object per parameter: FastAPI binds a shared one to the first parameter's name.
    return Query(default=None, max_length=40, description=f"{what}: ISO date/time or a duration back from now (30d, 12w, 6h)")


@router.get("/conversations/{conversation_id}/scorecard", response_model=ConversationScoreRead)
def conversation_scorecard(conversation_id: int, request: Request, user: User = Depends(current_user),
                           session: Session = Depends(get_session)):
    """A conversation's outcome, customer confidence, quality scorecard and summary (computed if missing)."""
    return service.get_conversation_score(session, settings=request.app.state.settings, tenant_id=user.tenant_id,
                                          conversation_id=conversation_id, viewer=user)


@router.post("/outcomes/score", response_model=ScoreRun)
def score(body: ScoreRequest, request: Request, user: User = Depends(require_role("supervisor"))):
    """Score history in bulk: unscored closed conversations, or all / since a date / the listed ids."""
    return score_history(request.app.state.sessionmaker, settings=request.app.state.settings, tenant_id=user.tenant_id,
                         since=body.since, rescore=body.all or body.conversation_ids is not None, retrain=body.retrain,
                         conversation_ids=body.conversation_ids, progress=False)


@router.get("/outcomes/agents/{agent_id}/scorecard", response_model=AgentScorecard)
def agent_scorecard(agent_id: int, since: str | None = _period("since"), until: str | None = _period("until"),
                    user: User = Depends(current_user), session: Session = Depends(get_session)):
    """An agent's outcome metrics over a period, weekly trend, strongest and weakest criteria with examples."""
    service.check_can_view_agent(user, agent_id)
    return reports.agent_scorecard(session, tenant_id=user.tenant_id, agent_id=agent_id,
                                   since=service.parse_since(since, field="since"), until=service.parse_since(until, field="until"))


@router.get("/outcomes/team", response_model=TeamScorecard)
def team_scorecard(since: str | None = _period("since"), until: str | None = _period("until"),
                   user: User = Depends(require_role("supervisor")), session: Session = Depends(get_session)):
    """The team's outcome metrics over a period, per agent, with weekly trends."""
    return reports.team_scorecard(session, tenant_id=user.tenant_id, since=service.parse_since(since, field="since"),
                                  until=service.parse_since(until, field="until"))


@router.get("/outcomes/coaching/{agent_id}", response_model=Coaching)
def agent_coaching(agent_id: int, since: str | None = _period("since"), user: User = Depends(current_user),
                   session: Session = Depends(get_session)):
    """The two or three criteria an agent should work on, each with a peer's better conversation on the same reason."""
    service.check_can_view_agent(user, agent_id)
    return coaching.coaching_for(session, tenant_id=user.tenant_id, agent_id=agent_id, since=service.parse_since(since, field="since"))


from deskmate.outcomes.pages import router as pages_router

router.include_router(pages_router)
