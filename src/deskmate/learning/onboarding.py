""""How top agents handle this reason": the best-scoring resolved conversations, so proven patterns spread.

Ranked by the outcomes domain's quality score, then resolution quality (which already folds in
the customer's sentiment shift and effort); at most `PER_AGENT` examples from one agent, so a
new agent sees more than one person's style. Beside the examples: the action path most of
them followed and the agents who resolve this reason best.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from deskmate.errors import NotFound

PER_AGENT = 2
REPLIES_SHOWN = 4
MIN_CONVERSATIONS = 3


class OnboardingExample(BaseModel):
    conversation_id: int
    external_id: str
    agent_id: int | None
    agent_name: str | None
    quality_score: float | None
    resolution_quality: float | None
    sentiment_shift: float | None
    actions: list[str]
    replies: list[str] = Field(description="the agent's first messages, as stored (redacted)")
    summary: str = ""


class TopAgent(BaseModel):
    agent_id: int
    agent_name: str
    conversations: int
    resolution_rate: float
    quality_mean: float | None


class Onboarding(BaseModel):
    reason: str
    conversations: int
    resolved: int
    typical_path: list[str]
    path_share: float | None = Field(description="share of the examples that followed the typical path")
    examples: list[OnboardingExample]
    top_agents: list[TopAgent]


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 2) if values else None


def onboarding_for(session: Session, *, tenant_id: int, reason: str, limit: int = 5) -> Onboarding:
    from deskmate.accounts.models import User
    from deskmate.conversations.models import Conversation
    from deskmate.conversations.transcript import load_transcripts
    from deskmate.outcomes.models import ConversationScore

    rows = session.execute(
        select(Conversation.id, Conversation.external_id, Conversation.agent_id, Conversation.outcome,
               ConversationScore.predicted_outcome, ConversationScore.quality_score, ConversationScore.resolution_quality,
               ConversationScore.sentiment_shift, ConversationScore.summary_text)
        .outerjoin(ConversationScore, ConversationScore.conversation_id == Conversation.id)
        .where(Conversation.tenant_id == tenant_id, Conversation.reason == reason, Conversation.status == "closed")
    ).all()
    if not rows:
        raise NotFound(f"no closed conversations with the reason {reason!r}")
    resolved = [r for r in rows if (r.outcome or r.predicted_outcome) == "resolved"]
    ranked = sorted(resolved, key=lambda r: (-(r.quality_score if r.quality_score is not None else -1),
                                             -(r.resolution_quality or 0.0), r.id))
    per_agent: Counter = Counter()
    chosen = []
    for r in ranked:
        if per_agent[r.agent_id] >= PER_AGENT:
            continue
        per_agent[r.agent_id] += 1
        chosen.append(r)
        if len(chosen) >= limit:
            break
    ids = [r.id for r in chosen]
    actions: dict[int, list[str]] = defaultdict(list)
    replies: dict[int, list[str]] = defaultdict(list)
    for conv in load_transcripts(session, tenant_id, ids):
        for m in conv.turns:
            if m.kind == "action" and m.action:
                actions[conv.id].append(m.action)
            elif m.role == "agent" and m.text and len(replies[conv.id]) < REPLIES_SHOWN:
                replies[conv.id].append(m.text)
    names = dict(session.execute(select(User.id, User.name).where(User.tenant_id == tenant_id)).all())
    examples = [OnboardingExample(
        conversation_id=r.id, external_id=r.external_id, agent_id=r.agent_id, agent_name=names.get(r.agent_id),
        quality_score=r.quality_score, resolution_quality=r.resolution_quality, sentiment_shift=r.sentiment_shift,
        actions=actions[r.id], replies=replies[r.id], summary=r.summary_text or "") for r in chosen]
    paths = Counter(tuple(e.actions) for e in examples if e.actions)
    typical, count = paths.most_common(1)[0] if paths else ((), 0)
    return Onboarding(reason=reason, conversations=len(rows), resolved=len(resolved), typical_path=list(typical),
                      path_share=round(count / len(examples), 2) if examples else None, examples=examples,
                      top_agents=_top_agents(rows, names))


def _top_agents(rows, names: dict[int, str], limit: int = 3) -> list[TopAgent]:
    by_agent: dict[int, list] = defaultdict(list)
    for r in rows:
        if r.agent_id is not None:
            by_agent[r.agent_id].append(r)
    out = []
    for agent_id, convs in by_agent.items():
        if len(convs) < MIN_CONVERSATIONS:
            continue
        rate = sum((c.outcome or c.predicted_outcome) == "resolved" for c in convs) / len(convs)
        out.append(TopAgent(agent_id=agent_id, agent_name=names.get(agent_id, f"agent {agent_id}"),
                            conversations=len(convs), resolution_rate=round(rate, 3),
                            quality_mean=_mean(c.quality_score for c in convs)))
    return sorted(out, key=lambda a: (-a.resolution_rate, -(a.quality_mean or 0), a.agent_id))[:limit]


def onboarding_reasons(session: Session, *, tenant_id: int) -> list[tuple[str, int]]:
    """Reasons with closed history, most frequent first (the onboarding index)."""
    from sqlalchemy import func

    from deskmate.conversations.models import Conversation

    rows = session.execute(select(Conversation.reason, func.count()).where(
        Conversation.tenant_id == tenant_id, Conversation.status == "closed", Conversation.reason.is_not(None))
        .group_by(Conversation.reason).order_by(func.count().desc(), Conversation.reason))
    return [(r, int(n)) for r, n in rows]
