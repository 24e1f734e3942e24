"""Learning API: feedback statistics, ranker versions and rollback, knowledge gaps and drafts,
intent corrections and new intents, onboarding examples.

Supervisors manage the loop; any signed-in user may correct a reason (agents do it as they work)
and read onboarding examples (a new agent's desk shows them).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from deskmate.accounts.deps import current_user, get_session, require_role
from deskmate.accounts.models import User
from deskmate.learning import corrections, gaps, onboarding, proposals, store, versions
from deskmate.learning.feedback_stats import FeedbackStats, feedback_stats
from deskmate.learning.onboarding import Onboarding
from deskmate.learning.proposals import IntentProposal
from deskmate.learning.schemas import (
    CorrectionCreate,
    CorrectionPage,
    CorrectionRead,
    GapDetail,
    GapRead,
    IntentAdded,
    IntentCreate,
    PublishRequest,
    ReasonCount,
    RollbackRequest,
    VersionRead,
    Versions,
)

api = APIRouter(prefix="/learning", tags=["learning"])
supervisor = require_role("supervisor")


@api.get("/stats", response_model=FeedbackStats)
def stats(since: str | None = Query(default=None, max_length=40, description="ISO date/time or 30d, 12w, 6h"),
          user: User = Depends(supervisor), session: Session = Depends(get_session)):
    """Acceptance, edit and dismissal rates per suggestion type, per agent and per week."""
    from deskmate.outcomes.service import parse_since

    return feedback_stats(session, tenant_id=user.tenant_id, since=parse_since(since))


@api.get("/versions", response_model=Versions)
def list_versions(request: Request, user: User = Depends(supervisor), session: Session = Depends(get_session)):
    """Ranker versions, newest first, with their replay scores and the promotion decision."""
    rows = versions.list_versions(session, tenant_id=user.tenant_id)
    return Versions(current=store.current_version(request.app.state.settings, user.tenant.slug),
                    items=[VersionRead.model_validate(r) for r in rows])


@api.post("/versions/rollback", response_model=VersionRead)
def rollback(body: RollbackRequest, request: Request, user: User = Depends(supervisor),
             session: Session = Depends(get_session)):
    """Make an earlier ranker version current again (default: the one before the current)."""
    return versions.rollback(session, settings=request.app.state.settings, tenant=user.tenant, version=body.version)


@api.get("/gaps", response_model=list[GapRead])
def list_gaps(status: str | None = Query(default=None, pattern="^(open|published|dismissed)$"),
              user: User = Depends(supervisor), session: Session = Depends(get_session)):
    """Knowledge gaps with their drafts, open ones first."""
    return gaps.list_gaps(session, tenant_id=user.tenant_id, status=status)


@api.post("/gaps/detect", response_model=list[GapRead])
def detect_gaps(refresh: bool = False, user: User = Depends(supervisor), session: Session = Depends(get_session)):
    """Look for gaps now and draft articles for new ones (`refresh` redrafts open ones)."""
    return gaps.detect_gaps(session, tenant=user.tenant, refresh=refresh)


@api.get("/gaps/{gap_id}", response_model=GapDetail)
def get_gap(gap_id: int, user: User = Depends(supervisor), session: Session = Depends(get_session)):
    """One gap, with its draft article as it stands now."""
    return _detail(session, gaps.get_gap(session, tenant_id=user.tenant_id, gap_id=gap_id))


@api.post("/gaps/{gap_id}/publish", response_model=GapDetail)
def publish_gap(gap_id: int, body: PublishRequest, user: User = Depends(supervisor), session: Session = Depends(get_session)):
    """Publish the draft (optionally with a new title or text): retrieval finds it at once."""
    gap, _ = gaps.publish_gap(session, tenant_id=user.tenant_id, gap_id=gap_id, user_id=user.id, title=body.title,
                              body=body.body)
    return _detail(session, gap)


@api.post("/gaps/{gap_id}/dismiss", response_model=GapDetail)
def dismiss_gap(gap_id: int, user: User = Depends(supervisor), session: Session = Depends(get_session)):
    """Not a gap worth an article: archive the draft and stop proposing it."""
    return _detail(session, gaps.dismiss_gap(session, tenant_id=user.tenant_id, gap_id=gap_id, user_id=user.id))


def _detail(session: Session, gap) -> GapDetail:
    from deskmate.knowledge.models import Article

    article = session.get(Article, gap.article_id) if gap.article_id else None
    return GapDetail(**GapRead.model_validate(gap).model_dump(), article_title=article.title if article else None,
                     article_body=article.body if article else None, article_status=article.status if article else None)


@api.post("/corrections", response_model=CorrectionRead, status_code=201)
def correct_reason(body: CorrectionCreate, user: User = Depends(current_user), session: Session = Depends(get_session)):
    """Relabel a conversation's reason for contact; the correction becomes intent training data."""
    return corrections.correct_reason(session, tenant_id=user.tenant_id, conversation_id=body.conversation_id,
                                      reason=body.reason, user_id=user.id)


@api.get("/corrections", response_model=CorrectionPage)
def list_corrections(limit: int = Query(default=100, ge=1, le=500), offset: int = Query(default=0, ge=0),
                     user: User = Depends(supervisor), session: Session = Depends(get_session)):
    """Reason corrections, newest first."""
    rows, total = corrections.list_corrections(session, tenant_id=user.tenant_id, limit=limit, offset=offset)
    return CorrectionPage(items=[CorrectionRead.model_validate(r) for r in rows], total=total)


@api.get("/intents/proposals", response_model=list[IntentProposal])
def intent_proposals(request: Request, user: User = Depends(supervisor), session: Session = Depends(get_session)):
    """New intents proposed from emerging topics, with example messages to accept them with."""
    return proposals.intent_proposals(session, settings=request.app.state.settings, tenant_id=user.tenant_id,
                                      tenant_slug=user.tenant.slug)


@api.post("/intents", response_model=IntentAdded, status_code=201)
def add_intent(body: IntentCreate, request: Request, user: User = Depends(supervisor)):
    """Accept a new intent (e.g. proposed from an emerging topic) with a few example messages."""
    version = corrections.accept_intent(request.app.state.settings, tenant_slug=user.tenant.slug, label=body.label,
                                        examples=body.examples)
    return IntentAdded(label=body.label, model_version=version, examples=len(body.examples))


@api.get("/onboarding", response_model=list[ReasonCount])
def onboarding_index(user: User = Depends(current_user), session: Session = Depends(get_session)):
    """Reasons for contact with history to learn from, most frequent first."""
    return [ReasonCount(reason=r, conversations=n) for r, n in onboarding.onboarding_reasons(session, tenant_id=user.tenant_id)]


@api.get("/onboarding/{reason}", response_model=Onboarding)
def onboarding_for(reason: str, limit: int = Query(default=5, ge=1, le=20), user: User = Depends(current_user),
                   session: Session = Depends(get_session)):
    """How top agents handle this reason: the best-scoring resolved conversations and their common path."""
    return onboarding.onboarding_for(session, tenant_id=user.tenant_id, reason=reason, limit=limit)


from deskmate.learning.pages import router as pages_router  # noqa: E402

router = APIRouter()
router.include_router(api)
router.include_router(pages_router)
