"""Feedback statistics: how often each kind of suggestion is accepted, edited or dismissed, per agent and week.

Read from assist's raw events (so open conversations count too), folded per suggestion in
SQL: one suggestion shown three times and inserted once is one acceptance of one suggestion.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session


class Rates(BaseModel):
    suggestions: int
    accepted: int
    edited: int
    dismissed: int
    rated_down: int
    acceptance_rate: float | None
    edit_rate: float | None  # share of acceptances the agent edited before sending
    dismiss_rate: float | None


class KindRates(Rates):
    kind: str


class AgentRates(Rates):
    agent_id: int | None
    agent_name: str | None
    kind: str


class WeekRates(Rates):
    week: str
    kind: str


class FeedbackStats(BaseModel):
    since: datetime | None
    overall: Rates
    by_kind: list[KindRates]
    by_agent: list[AgentRates]
    by_week: list[WeekRates]
    outcome_joined: dict  # kind -> {accepted: resolved rate, not accepted: resolved rate}


def _rates(rows: list[tuple]) -> dict:
    n = len(rows)
    accepted = sum(r[0] for r in rows)
    edited = sum(r[1] for r in rows)
    dismissed = sum(r[2] for r in rows)
    down = sum(r[3] for r in rows)
    return dict(suggestions=n, accepted=accepted, edited=edited, dismissed=dismissed, rated_down=down,
                acceptance_rate=round(accepted / n, 4) if n else None,
                edit_rate=round(edited / accepted, 4) if accepted else None,
                dismiss_rate=round(dismissed / n, 4) if n else None)


def _week(at: datetime) -> str:
    year, week, _ = at.isocalendar()
    return f"{year}-W{week:02d}"


def feedback_stats(session: Session, *, tenant_id: int, since: datetime | None = None,
                   kinds: tuple[str, ...] = ("kb", "reply", "nba")) -> FeedbackStats:
    from deskmate.accounts.models import User
    from deskmate.assist.models import FeedbackEvent
    from deskmate.conversations.models import Conversation
    from deskmate.learning.models import FeedbackOutcome

    accepted = func.max(case((FeedbackEvent.event.in_(("inserted", "edited")), 1), else_=0))
    edited = func.max(case((FeedbackEvent.event == "edited", 1), else_=0))
    dismissed = func.max(case((FeedbackEvent.event == "dismissed", 1), else_=0))
    down = func.max(case(((FeedbackEvent.event == "rated") & (FeedbackEvent.rating <= 0), 1), else_=0))
    stmt = (select(FeedbackEvent.suggestion_id, FeedbackEvent.suggestion_type,
                   func.coalesce(Conversation.agent_id, func.max(FeedbackEvent.user_id)),
                   func.min(FeedbackEvent.created_at), accepted, edited, dismissed, down)
            .join(Conversation, Conversation.id == FeedbackEvent.conversation_id)
            .where(FeedbackEvent.tenant_id == tenant_id, FeedbackEvent.suggestion_type.in_(kinds))
            .group_by(FeedbackEvent.suggestion_id, FeedbackEvent.suggestion_type, Conversation.agent_id))
    if since is not None:
        stmt = stmt.where(FeedbackEvent.created_at >= since)
    overall, per_kind, per_agent, per_week = [], defaultdict(list), defaultdict(list), defaultdict(list)
    for _sid, kind, agent, first, acc, ed, dis, dn in session.execute(stmt):
        row = (int(acc), int(ed and acc), int(dis and not acc), int(dn))
        overall.append(row)
        per_kind[kind].append(row)
        per_agent[(agent, kind)].append(row)
        per_week[(_week(first), kind)].append(row)
    names = dict(session.execute(select(User.id, User.name).where(User.tenant_id == tenant_id)).all())

    joined: dict[str, dict] = {}
    q = (select(FeedbackOutcome.kind, FeedbackOutcome.accepted, func.count(),
                func.sum(case((FeedbackOutcome.resolved.is_(True), 1), else_=0)))
         .where(FeedbackOutcome.tenant_id == tenant_id, FeedbackOutcome.shown.is_(True))
         .group_by(FeedbackOutcome.kind, FeedbackOutcome.accepted))
    if since is not None:
        q = q.where(FeedbackOutcome.first_event_at >= since)
    for kind, acc, n, res in session.execute(q):
        joined.setdefault(kind, {})["accepted" if acc else "not_accepted"] = {
            "suggestions": int(n), "resolved_rate": round(int(res or 0) / n, 4) if n else None}

    return FeedbackStats(
        since=since, overall=Rates(**_rates(overall)),
        by_kind=[KindRates(kind=k, **_rates(v)) for k, v in sorted(per_kind.items())],
        by_agent=[AgentRates(agent_id=a, agent_name=names.get(a), kind=k, **_rates(v))
                  for (a, k), v in sorted(per_agent.items(), key=lambda kv: (names.get(kv[0][0]) or "", kv[0][1]))],
        by_week=[WeekRates(week=w, kind=k, **_rates(v)) for (w, k), v in sorted(per_week.items())],
        outcome_joined=joined,
    )
