"""The numbers behind the dashboard pages and the HTML report, computed once per request.

Outcome by topic answers "which reasons for contact end unresolved or angry"; friction points
answer "where in the procedure do conversations stall": for each reason with a procedure, the
first required step that unresolved, escalated or abandoned conversations never reached.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskmate.insights import topics as topics_mod
from deskmate.insights import trends
from deskmate.insights.models import InsightAlert, InsightRecord, InsightTopic

OUTCOMES = ("resolved", "unresolved", "escalated", "abandoned")
QUOTES = 3


def _records(session: Session, tenant_id: int, since: datetime | None, until: datetime | None):
    stmt = select(InsightRecord.topic_id, InsightRecord.reason, InsightRecord.outcome, InsightRecord.sentiment_end,
                  InsightRecord.stalled_at, InsightRecord.procedure_done, InsightRecord.procedure_steps,
                  InsightRecord.opening_text, InsightRecord.conversation_id, InsightRecord.topic_distance,
                  InsightRecord.quality_score).where(InsightRecord.tenant_id == tenant_id)
    if since is not None:
        stmt = stmt.where(InsightRecord.started_at >= since)
    if until is not None:
        stmt = stmt.where(InsightRecord.started_at < until)
    return session.execute(stmt).all()


def outcome_by_topic(rows, topics: dict[int, InsightTopic], top: int = 15) -> list[dict]:
    groups: dict[int | None, list] = defaultdict(list)
    for r in rows:
        groups[r.topic_id].append(r)
    out = []
    for topic_id, members in groups.items():
        topic = topics.get(topic_id)
        outcomes = Counter(m.outcome or "open" for m in members)
        sentiments = [m.sentiment_end for m in members if m.sentiment_end is not None]
        quality = [m.quality_score for m in members if m.quality_score is not None]
        bad = sum(outcomes[o] for o in ("unresolved", "escalated", "abandoned"))
        out.append({"number": topic.number if topic else None, "label": f"#{topic.number} {topic.label}" if topic else "unassigned",
                    "total": len(members), "outcomes": {o: outcomes.get(o, 0) for o in (*OUTCOMES, "open")},
                    "not_resolved_share": round(bad / len(members), 3),
                    "negative_share": round(sum(s < -0.2 for s in sentiments) / len(sentiments), 3) if sentiments else None,
                    "sentiment_end": round(sum(sentiments) / len(sentiments), 3) if sentiments else None,
                    "quality": round(sum(quality) / len(quality), 3) if quality else None})
    out.sort(key=lambda d: -d["total"])
    return out[:top]


def friction_points(rows, top: int = 12) -> list[dict]:
    by_reason: dict[str, list] = defaultdict(list)
    for r in rows:
        if r.reason and r.procedure_steps:
            by_reason[r.reason].append(r)
    out = []
    for reason, members in by_reason.items():
        failed = [m for m in members if m.outcome in ("unresolved", "escalated", "abandoned")]
        stalls = Counter(m.stalled_at for m in failed if m.stalled_at)
        if not stalls:
            continue
        step, n = stalls.most_common(1)[0]
        out.append({"reason": reason, "conversations": len(members), "not_resolved": len(failed), "stalled_at": step,
                    "stalled": n, "stalls": dict(stalls.most_common(5)),
                    "avg_steps_done": round(sum(m.procedure_done or 0 for m in failed) / max(len(failed), 1), 2),
                    "steps": members[0].procedure_steps})
    out.sort(key=lambda d: -d["stalled"])
    return out[:top]


def quotes(rows, topics: dict[int, InsightTopic], numbers: list[int]) -> dict[int, list[dict]]:
    """The members nearest each topic's centre: what customers actually say."""
    by_topic: dict[int, list] = defaultdict(list)
    for r in rows:
        if r.topic_id in topics and r.opening_text:
            by_topic[topics[r.topic_id].number].append(r)
    return {n: [{"text": m.opening_text, "conversation_id": m.conversation_id}
                for m in sorted(by_topic.get(n, []), key=lambda m: m.topic_distance or 0)[:QUOTES]] for n in numbers}


def overview(session: Session, tenant_id: int, *, since: datetime | None = None, until: datetime | None = None) -> dict:
    topics = {t.id: t for t in session.scalars(select(InsightTopic).where(InsightTopic.tenant_id == tenant_id))}
    rows = _records(session, tenant_id, since, until)
    tree = topics_mod.topic_tree(session, tenant_id, since=since, until=until)
    by_topic = outcome_by_topic(rows, topics)
    top_numbers = [t["number"] for t in by_topic if t["number"] is not None][:8]
    alerts = session.scalars(select(InsightAlert).where(InsightAlert.tenant_id == tenant_id)
                             .order_by(InsightAlert.day.desc(), InsightAlert.id.desc()).limit(20)).all()
    return {
        "since": since, "until": until, "conversations": len(rows),
        "unassigned": sum(1 for r in rows if r.topic_id is None),
        "resolved_share": round(sum(r.outcome == "resolved" for r in rows) / len(rows), 3) if rows else None,
        "tree": tree,
        "topics": sum(1 for parent in tree for t in parent["topics"] if t["volume"]),
        "weekly": trends.volume(session, tenant_id, "topic", interval="week", since=since, until=until, top=8),
        "daily": trends.volume(session, tenant_id, "topic", interval="day", since=since, until=until, top=8),
        "outcome_by_topic": by_topic,
        "friction": friction_points(rows),
        "alerts": alerts,
        "quotes": quotes(rows, topics, top_numbers),
        "topic_labels": {t.number: t.label for t in topics.values()},
    }


def chart_figures(data: dict) -> dict:
    """Plotly figure specs (plain JSON) for the overview: the same charts on the page and in the report."""
    weekly = data["weekly"]
    over_time = {"data": [{"type": "scatter", "mode": "lines+markers", "name": s["label"][:40], "x": weekly["periods"],
                           "y": s["counts"]} for s in weekly["series"]],
                 "layout": {"title": {"text": "Topics over time (weekly conversations)"}, "height": 380,
                            "margin": {"l": 50, "r": 10, "t": 40, "b": 40}, "legend": {"orientation": "h", "y": -0.2}}}
    obt = list(reversed(data["outcome_by_topic"]))
    colors = {"resolved": "#2e7d32", "unresolved": "#f9a825", "escalated": "#c62828", "abandoned": "#6d4c41", "open": "#90a4ae"}
    outcome = {"data": [{"type": "bar", "orientation": "h", "name": o, "marker": {"color": colors[o]},
                         "y": [t["label"][:45] for t in obt], "x": [t["outcomes"][o] for t in obt]}
                        for o in (*OUTCOMES, "open")],
               "layout": {"barmode": "stack", "title": {"text": "Outcome by topic"}, "height": max(320, 28 * len(obt) + 80),
                          "margin": {"l": 300, "r": 10, "t": 40, "b": 40}, "legend": {"orientation": "h", "y": -0.15}}}
    friction = {"data": [{"type": "bar", "orientation": "h", "x": [f["stalled"] for f in reversed(data["friction"])],
                          "y": [f"{f['reason']} → {f['stalled_at']}" for f in reversed(data["friction"])],
                          "marker": {"color": "#c62828"}}],
                "layout": {"title": {"text": "Friction points: the step unresolved conversations never reached"},
                           "height": max(300, 28 * len(data["friction"]) + 80), "margin": {"l": 320, "r": 10, "t": 40, "b": 40}}}
    return {"over_time": over_time, "outcome": outcome, "friction": friction}
