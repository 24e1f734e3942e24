"""Coaching: the two or three criteria an agent should work on, each shown with a peer who did it well.

A criterion is worth coaching where the agent fails it more often than their peers do. The
peer example is chosen to be directly comparable: same reason for contact, the criterion
passed, and a higher quality score than the agent's own example; so the agent sees what
"good" looks like on the very kind of conversation they struggled with.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskmate.accounts.models import User
from deskmate.errors import NotFound
from deskmate.outcomes.models import AgentRef, Coaching, CoachingItem
from deskmate.outcomes.reports import (
    MIN_APPLICABLE,
    ScoreLine,
    agent_names,
    criterion_rates,
    example,
    load_lines,
    result_of,
)

MAX_ITEMS = 3


def _peer_example(failed: list[ScoreLine], peers: list[ScoreLine], key: str) -> tuple[ScoreLine, ScoreLine | None]:
    """The agent's failing conversation that has the best comparable peer conversation, and that peer conversation."""
    passing = [p for p in peers if result_of(p, key) == "pass" and p.quality_score is not None]
    best_pair: tuple[ScoreLine, ScoreLine | None] = (failed[0], None)
    best_gap = -1.0
    for mine in failed:
        own = mine.quality_score or 0.0
        same = [p for p in passing if p.reason == mine.reason and p.quality_score > own]
        if same:
            peer = max(same, key=lambda p: (p.quality_score, p.started_at or datetime.min))
            if peer.quality_score - own > best_gap:
                best_pair, best_gap = (mine, peer), peer.quality_score - own
    return best_pair


def coaching_for(session: Session, *, tenant_id: int, agent_id: int, since: datetime | None = None) -> Coaching:
    agent = session.scalar(select(User).where(User.tenant_id == tenant_id, User.id == agent_id))
    if agent is None:
        raise NotFound(f"no agent {agent_id}")
    period = load_lines(session, tenant_id=tenant_id, since=since)
    mine = [x for x in period if x.agent_id == agent_id]
    # Peer examples may come from any time: a good conversation last quarter is still a good example.
    peers = [x for x in load_lines(session, tenant_id=tenant_id) if x.agent_id not in (agent_id, None)]
    team_rates = {r.key: r for r in criterion_rates([x for x in period if x.agent_id != agent_id])}
    candidates = []
    for rate in criterion_rates(mine):
        if not rate.failed or rate.passed + rate.failed < MIN_APPLICABLE:
            continue
        team = team_rates.get(rate.key)
        gap = (team.pass_rate if team and team.pass_rate is not None else 1.0) - rate.pass_rate
        candidates.append((gap, rate.failed, rate, team))
    candidates.sort(key=lambda c: (-c[0], -c[1]))
    names = agent_names(session, tenant_id=tenant_id)
    items = []
    for gap, _, rate, team in candidates:
        if len(items) == MAX_ITEMS or (gap <= 0 and len(items) >= 2):
            break
        failed = sorted((x for x in mine if result_of(x, rate.key) == "fail"), key=lambda x: x.quality_score or 0)
        own, peer = _peer_example(failed, peers, rate.key)
        items.append(CoachingItem(
            criterion=rate.key, label=rate.label, agent_pass_rate=rate.pass_rate,
            team_pass_rate=team.pass_rate if team else None, failed=rate.failed,
            agent_example=example(own, rate.key, names), peer_example=example(peer, rate.key, names) if peer else None,
        ))
    return Coaching(agent=AgentRef(id=agent.id, name=agent.name), since=since, items=items)
