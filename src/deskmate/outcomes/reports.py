"""Agent and team scorecards over a period, weekly trends, and the criteria each agent does best and worst.

Outcome metrics lead (resolution, reopens, quality, the customer's sentiment shift, policy
adherence); handle time is only shown beside them, because rewarding speed teaches agents to
end conversations, not to resolve them.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from deskmate.accounts.models import User
from deskmate.errors import InvalidInput, NotFound
from deskmate.outcomes.models import (
    AgentRef,
    AgentRow,
    AgentScorecard,
    ConversationScore,
    CriterionExamples,
    CriterionRate,
    Distribution,
    ExampleConversation,
    Headline,
    TeamScorecard,
    WeekTrend,
)

MIN_APPLICABLE = 3  # a criterion judged fewer times says nothing about the agent yet
EXAMPLES = 3


@dataclass(frozen=True)
class ScoreLine:
    """The columns reports read of one score row."""

    conversation_id: int
    agent_id: int | None
    reason: str | None
    started_at: datetime | None
    handle_seconds: float | None
    predicted_outcome: str
    reopened: bool
    sentiment_shift: float | None
    quality_score: float | None
    resolution_quality: float
    policy_adherence: str | None
    criteria: list


def load_lines(session: Session, *, tenant_id: int, since: datetime | None = None, until: datetime | None = None,
               agent_id: int | None = None) -> list[ScoreLine]:
    if since and until and since >= until:
        raise InvalidInput("since must be before until")
    cols = [getattr(ConversationScore, f) for f in ScoreLine.__dataclass_fields__]
    stmt = select(*cols).where(ConversationScore.tenant_id == tenant_id)
    if since is not None:
        stmt = stmt.where(ConversationScore.started_at >= since)
    if until is not None:
        stmt = stmt.where(ConversationScore.started_at < until)
    if agent_id is not None:
        stmt = stmt.where(ConversationScore.agent_id == agent_id)
    return [ScoreLine(*r) for r in session.execute(stmt.order_by(ConversationScore.started_at))]


def _rate(flags: Iterable[bool]) -> float | None:
    flags = list(flags)
    return round(sum(flags) / len(flags), 4) if flags else None


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(statistics.fmean(vals), 4) if vals else None


def distribution(values: Iterable[float | None]) -> Distribution:
    vals = sorted(v for v in values if v is not None)
    hist = [0] * 10
    for v in vals:
        hist[min(9, int(v // 10))] += 1
    if not vals:
        return Distribution(mean=None, median=None, p25=None, p75=None, histogram=hist)
    q = statistics.quantiles(vals, n=4, method="inclusive") if len(vals) > 1 else [vals[0]] * 3
    return Distribution(mean=round(statistics.fmean(vals), 1), median=round(q[1], 1), p25=round(q[0], 1),
                        p75=round(q[2], 1), histogram=hist)


def headline(lines: Sequence[ScoreLine]) -> dict:
    handle = [x.handle_seconds / 60 for x in lines if x.handle_seconds is not None]
    return dict(
        conversations=len(lines),
        resolution_rate=_rate(x.predicted_outcome == "resolved" for x in lines),
        reopen_rate=_rate(x.reopened for x in lines),
        quality=distribution(x.quality_score for x in lines),
        resolution_quality=distribution(x.resolution_quality for x in lines),
        sentiment_shift=_mean(x.sentiment_shift for x in lines),
        policy_adherence=_rate(x.policy_adherence == "pass" for x in lines if x.policy_adherence in ("pass", "fail")),
        handle_minutes_median=round(statistics.median(handle), 1) if handle else None,
    )


def criterion_rates(lines: Sequence[ScoreLine]) -> list[CriterionRate]:
    counts: dict[str, dict] = {}
    for line in lines:
        for c in line.criteria:
            slot = counts.setdefault(c["key"], {"label": c["label"], "pass": 0, "fail": 0, "na": 0})
            slot[c["result"]] += 1
    return [CriterionRate(key=k, label=v["label"], passed=v["pass"], failed=v["fail"], not_applicable=v["na"],
                          pass_rate=_rate([True] * v["pass"] + [False] * v["fail"])) for k, v in counts.items()]


def weekly_trend(lines: Sequence[ScoreLine]) -> list[WeekTrend]:
    weeks: dict[tuple[int, int], list[ScoreLine]] = defaultdict(list)
    for line in lines:
        if line.started_at is not None:
            weeks[line.started_at.isocalendar()[:2]].append(line)
    out = []
    for (year, week), group in sorted(weeks.items()):
        start = datetime.fromisocalendar(year, week, 1).date()
        h = headline(group)
        out.append(WeekTrend(week=f"{year}-W{week:02d}", week_start=start.isoformat(), conversations=len(group),
                             resolution_rate=h["resolution_rate"], reopen_rate=h["reopen_rate"],
                             quality_mean=h["quality"].mean, policy_adherence=h["policy_adherence"],
                             sentiment_shift=h["sentiment_shift"]))
    return out


def example(line: ScoreLine, key: str, names: dict[int, str] | None = None) -> ExampleConversation:
    c = next(c for c in line.criteria if c["key"] == key)
    return ExampleConversation(conversation_id=line.conversation_id, agent_id=line.agent_id,
                               agent_name=(names or {}).get(line.agent_id), reason=line.reason,
                               started_at=line.started_at, quality_score=line.quality_score, result=c["result"],
                               note=c.get("note", ""), evidence=c.get("evidence", []))


def result_of(line: ScoreLine, key: str) -> str | None:
    return next((c["result"] for c in line.criteria if c["key"] == key), None)


def strongest_and_weakest(lines: Sequence[ScoreLine], rates: list[CriterionRate]) -> tuple[list, list]:
    judged = [r for r in rates if r.passed + r.failed >= MIN_APPLICABLE]
    ranked = sorted(judged, key=lambda r: (r.pass_rate, r.passed + r.failed))

    def with_examples(rate: CriterionRate, wanted: str) -> CriterionExamples:
        hits = [x for x in lines if result_of(x, rate.key) == wanted]
        hits.sort(key=lambda x: (x.quality_score or 0) * (1 if wanted == "pass" else -1), reverse=True)
        return CriterionExamples(**rate.model_dump(), examples=[example(x, rate.key) for x in hits[:EXAMPLES]])

    weakest = [with_examples(r, "fail") for r in ranked[:2] if r.failed]
    strongest = [with_examples(r, "pass") for r in reversed(ranked[-2:]) if r.passed and r.key not in {w.key for w in weakest}]
    return strongest, weakest


def resolve_agent(session: Session, *, tenant_id: int, name_or_id: str | int) -> User:
    """An agent by id, external id or (unambiguous, case-insensitive) name."""
    text = str(name_or_id).strip()
    conds = [func.lower(User.name) == text.lower(), User.external_id == text]
    if text.isdigit():
        conds.append(User.id == int(text))
    users = list(session.scalars(select(User).where(User.tenant_id == tenant_id, or_(*conds))))
    if text.isdigit() and any(u.id == int(text) for u in users):
        return next(u for u in users if u.id == int(text))
    if len(users) > 1:
        raise InvalidInput(f"{text!r} matches {len(users)} users; use an id: " + ", ".join(f"{u.id} {u.name}" for u in users))
    if not users:
        raise NotFound(f"no agent {text!r} in this workspace")
    return users[0]


def agent_scorecard(session: Session, *, tenant_id: int, agent_id: int, since: datetime | None = None,
                    until: datetime | None = None) -> AgentScorecard:
    agent = session.scalar(select(User).where(User.tenant_id == tenant_id, User.id == agent_id))
    if agent is None:
        raise NotFound(f"no agent {agent_id}")
    team = load_lines(session, tenant_id=tenant_id, since=since, until=until)
    mine = [x for x in team if x.agent_id == agent_id]
    rates = criterion_rates(mine)
    strongest, weakest = strongest_and_weakest(mine, rates)
    return AgentScorecard(**headline(mine), agent=AgentRef(id=agent.id, name=agent.name), since=since, until=until,
                          criteria=rates, strongest=strongest, weakest=weakest, trend=weekly_trend(mine),
                          team=Headline(**headline(team)))


def agent_names(session: Session, *, tenant_id: int) -> dict[int, str]:
    return {uid: name for uid, name in session.execute(select(User.id, User.name).where(User.tenant_id == tenant_id))}


def team_scorecard(session: Session, *, tenant_id: int, since: datetime | None = None,
                   until: datetime | None = None) -> TeamScorecard:
    lines = load_lines(session, tenant_id=tenant_id, since=since, until=until)
    names = agent_names(session, tenant_id=tenant_id)
    by_agent: dict[int, list[ScoreLine]] = defaultdict(list)
    for line in lines:
        if line.agent_id is not None:
            by_agent[line.agent_id].append(line)
    rows = [AgentRow(**headline(group), agent=AgentRef(id=aid, name=names.get(aid, f"agent {aid}")))
            for aid, group in by_agent.items()]
    rows.sort(key=lambda r: (-(r.resolution_quality.mean or 0), r.agent.name))
    return TeamScorecard(**headline(lines), since=since, until=until, criteria=criterion_rates(lines),
                         trend=weekly_trend(lines), agents=rows)


def default_since(days: int = 30, now: datetime | None = None) -> datetime:
    from deskmate.db import utcnow

    return (now or utcnow()) - timedelta(days=days)
