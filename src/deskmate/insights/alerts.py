"""Emerging-issue alerts: spikes and new topics, with their evidence, stored once and pushed.

An alert says which topic (or reason, intent, product) rose, by how much against its seasonal
baseline, which products and phrases the rise brings (class-based TF-IDF of the spike window
against the baseline) and which conversations show it. One episode alerts once: a subject that
alerted within REALERT_DAYS is not alerted again. Alerts are pushed to `settings.alert_webhook_url`
and to the supervisor floor (the assist hub's tenant channel), and listed at GET /insights/alerts.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from deskmate.insights.clustering import row_normalise
from deskmate.insights.models import InsightAlert, InsightRecord, InsightTopic
from deskmate.insights.naming import contrast_terms
from deskmate.insights.records import vectors_of
from deskmate.insights.trends import DIMENSIONS, Spike, find_spikes, load_series, weekday_profile_for

log = logging.getLogger("deskmate.insights.alerts")

REALERT_DAYS = 7
EXAMPLES = 5
NEW_TOPIC_DAYS = 7  # the unassigned pool watched for a new topic
NEW_TOPIC_MIN = 8
NEW_TOPIC_DISTANCE = 0.45  # average-linkage cosine distance inside a gathering group
WEBHOOK_TIMEOUT = 5.0


@dataclass
class DetectSummary:
    days: int
    spikes: int
    new_topics: int
    created: list[InsightAlert]

    def as_dict(self) -> dict:
        return {"days": self.days, "spikes": self.spikes, "new_topics": self.new_topics, "alerts": len(self.created)}


def _start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)


def _recent(session: Session, tenant_id: int, dimension: str, subject: str, day: date) -> bool:
    last = session.scalar(select(InsightAlert.day).where(
        InsightAlert.tenant_id == tenant_id, InsightAlert.dimension == dimension, InsightAlert.subject == subject,
        InsightAlert.day <= _start(day)).order_by(InsightAlert.day.desc()).limit(1))
    return last is not None and (_start(day) - last).days < REALERT_DAYS


def _evidence(session: Session, window_ids: list[int], baseline_ids: list[int]) -> tuple[list[str], list[str], list[int]]:
    """(phrases, products, example conversation ids) of a window against its baseline."""
    def load(ids):
        out = []
        for start in range(0, len(ids), 900):
            out += session.execute(select(InsightRecord.opening_text, InsightRecord.products, InsightRecord.conversation_id)
                                   .where(InsightRecord.id.in_(ids[start:start + 900]))).all()
        return out
    window, baseline = load(window_ids), load(baseline_ids)
    phrases = contrast_terms([w.opening_text for w in window], [b.opening_text for b in baseline])
    in_window = Counter(p for w in window for p in (w.products or []))
    in_base = Counter(p for b in baseline for p in (b.products or []))
    scale = len(window) / max(len(baseline), 1)
    products = [p for p, n in in_window.most_common() if n >= 2 and n > 2 * scale * in_base.get(p, 0)][:5]
    return phrases, products, [w.conversation_id for w in window][-EXAMPLES:]


def _spike_alert(session: Session, tenant_id: int, spike: Spike, series, topic_ids: dict[str, int]) -> InsightAlert:
    end = (spike.day - series.days[0]).days
    window_ids = [i for d in range(end - spike.window + 1, end + 1) for i in series.members.get((spike.subject, d), [])]
    baseline_ids = [i for d in range(max(0, end - spike.window - 28), end - spike.window + 1)
                    for i in series.members.get((spike.subject, d), [])]
    phrases, products, examples = _evidence(session, window_ids, baseline_ids)
    if spike.dimension == "product" and spike.subject not in products:
        products.insert(0, spike.subject)
    what = {"topic": "Topic", "reason": "Reason", "intent": "Intent", "product": "Product"}[spike.dimension]
    title = (f"{what} {spike.label}: {spike.observed} conversations in {spike.window} day(s) against "
             f"{spike.expected:.1f} expected (x{spike.ratio:.1f})")
    return InsightAlert(
        tenant_id=tenant_id, key=f"spike:{spike.dimension}:{spike.subject}:{spike.day.isoformat()}"[:200], kind="spike",
        dimension=spike.dimension, subject=spike.subject[:200], topic_id=topic_ids.get(spike.subject) if spike.dimension == "topic" else None,
        title=title[:300], day=_start(spike.day), observed=spike.observed, expected=round(spike.expected, 3),
        ratio=round(spike.ratio, 2), p_value=spike.p_value, terms=phrases, products=products, conversation_ids=examples)


def _gathering_alerted(session: Session, tenant_id: int, record_ids: set[int], day: date) -> bool:
    """A group that already alerted (its examples are among today's members) is the same gathering, not a new one."""
    recent = session.scalars(select(InsightAlert.conversation_ids).where(
        InsightAlert.tenant_id == tenant_id, InsightAlert.kind == "new_topic",
        InsightAlert.day > _start(day - timedelta(days=REALERT_DAYS)), InsightAlert.day <= _start(day))).all()
    if not recent:
        return False
    conversation_ids = set(session.scalars(select(InsightRecord.conversation_id).where(InsightRecord.id.in_(record_ids))))
    return any(conversation_ids & set(ids or []) for ids in recent)


def _new_topic_alerts(session: Session, tenant_id: int, day: date) -> list[InsightAlert]:
    """Unassigned conversations of the last week gathering into one dense group."""
    from scipy.cluster.hierarchy import fcluster, linkage

    since, until = _start(day - timedelta(days=NEW_TOPIC_DAYS - 1)), _start(day + timedelta(days=1))
    rows = session.execute(select(InsightRecord.id, InsightRecord.embedding, InsightRecord.started_at).where(
        InsightRecord.tenant_id == tenant_id, InsightRecord.topic_id.is_(None), InsightRecord.embedding.is_not(None),
        InsightRecord.started_at >= since, InsightRecord.started_at < until)).all()
    if len(rows) < NEW_TOPIC_MIN:
        return []
    X = row_normalise(vectors_of([r.embedding for r in rows], len(rows[0].embedding) // 4))
    groups = fcluster(linkage(X, method="average", metric="cosine"), t=NEW_TOPIC_DISTANCE, criterion="distance")
    alerts = []
    for g, n in Counter(groups).items():
        members = [r for r, gg in zip(rows, groups) if gg == g]
        fresh = sum(r.started_at >= _start(day - timedelta(days=2)) for r in members)
        if n < NEW_TOPIC_MIN or fresh < n / 3:  # gathering now, not a slow trickle of odd ones
            continue
        baseline = list(session.scalars(select(InsightRecord.id).where(
            InsightRecord.tenant_id == tenant_id, InsightRecord.started_at < since).order_by(InsightRecord.id.desc()).limit(1000)))
        phrases, products, examples = _evidence(session, [r.id for r in members], baseline)
        if _gathering_alerted(session, tenant_id, {r.id for r in members}, day):
            continue
        subject = "new:" + "-".join(phrases[:2]) if phrases else f"new:{day.isoformat()}:{g}"
        alerts.append(InsightAlert(
            tenant_id=tenant_id, key=f"new_topic:{subject}:{day.isoformat()}"[:200], kind="new_topic", dimension="topic",
            subject=subject[:200], title=f"New topic gathering: {n} conversations fit no known topic"
            + (f" ({', '.join(phrases[:3])})" if phrases else ""), day=_start(day), observed=n, expected=0.0,
            ratio=float(n), p_value=0.0, terms=phrases, products=products, conversation_ids=examples))
    return alerts


def detect(session: Session, tenant_id: int, *, day_from: date | None = None, day_to: date | None = None,
           dimensions: tuple[str, ...] = DIMENSIONS, new_topics: bool = True) -> DetectSummary:
    """Run spike and new-topic detection for each day in [day_from, day_to] (default: the last day with data)."""
    topic_ids = {str(t.number): t.id for t in session.scalars(select(InsightTopic).where(InsightTopic.tenant_id == tenant_id))}
    created: list[InsightAlert] = []
    spikes_n = new_n = 0
    total = load_series(session, tenant_id, "reason")
    if not total.days:
        return DetectSummary(0, 0, 0, [])
    last = total.days[-1]
    day_to = min(day_to or last, last)
    day_from = day_from or day_to
    factors = weekday_profile_for(total)
    for dimension in dimensions:
        series = load_series(session, tenant_id, dimension)
        for spike in find_spikes(series, dimension, day_from=day_from, day_to=day_to, factors=factors):
            spikes_n += 1
            if _recent(session, tenant_id, dimension, spike.subject, spike.day):
                continue
            alert = _spike_alert(session, tenant_id, spike, series, topic_ids)
            session.add(alert)
            session.flush()
            created.append(alert)
    if new_topics:
        d = day_from
        while d <= day_to:
            for alert in _new_topic_alerts(session, tenant_id, d):
                new_n += 1
                if _recent(session, tenant_id, "topic", alert.subject, d) or _key_exists(session, tenant_id, alert.key):
                    continue
                session.add(alert)
                session.flush()
                created.append(alert)
            d += timedelta(days=1)
    return DetectSummary((day_to - day_from).days + 1, spikes_n, new_n, created)


def _key_exists(session: Session, tenant_id: int, key: str) -> bool:
    return session.scalar(select(InsightAlert.id).where(InsightAlert.tenant_id == tenant_id, InsightAlert.key == key)) is not None


def alert_payload(alert: InsightAlert, base_url: str = "") -> dict:
    return {
        "type": "insight_alert", "id": alert.id, "kind": alert.kind, "dimension": alert.dimension, "subject": alert.subject,
        "text": alert.title, "title": alert.title, "day": alert.day.date().isoformat(), "observed": alert.observed,
        "expected": alert.expected, "ratio": alert.ratio, "p_value": alert.p_value, "phrases": alert.terms,
        "products": alert.products,
        "conversations": [{"id": c, "url": f"{base_url}/insights/conversations/{c}"} for c in alert.conversation_ids],
    }


def push(alert: InsightAlert, *, settings, hub=None, client: httpx.Client | None = None) -> dict:
    """Deliver one alert to the webhook and the supervisor floor; records each channel's result on the alert."""
    payload = alert_payload(alert)
    pushed = dict(alert.pushed or {})
    if settings.alert_webhook_url:
        try:
            own = client is None
            client = client or httpx.Client(timeout=WEBHOOK_TIMEOUT)
            try:
                response = client.post(settings.alert_webhook_url, json=payload)
                pushed["webhook"] = "ok" if response.status_code < 400 else f"HTTP {response.status_code}"
            finally:
                if own:
                    client.close()
        except httpx.HTTPError as exc:
            pushed["webhook"] = f"failed: {type(exc).__name__}"
            log.warning("alert %s: webhook failed: %s", alert.id, exc)
    if hub is None and settings.redis_url:
        from deskmate.assist.hub import LiveHub

        hub = LiveHub.for_settings(settings)  # publishes through Redis to every server process
    if hub is not None:
        try:
            hub.publish_from_thread(alert.tenant_id, 0, payload)
            pushed["floor"] = "ok"
        except Exception as exc:  # the floor is best effort; the alert stays listed for polling
            pushed["floor"] = f"failed: {type(exc).__name__}"
    alert.pushed = pushed
    return pushed
