"""Emerging-issue detection on the demo workspace, scored against its ground truth (truth.json).

Builds the demo (2,400 conversations over 90 days of an online retailer; one product issue starts
~12 days before the end), refreshes the insight records, then replays detection day by day:

  as deployed  topics were last re-fitted two days before the issue starts; later conversations are
               assigned incrementally (nearest topic within radius, else unassigned), as the nightly
               job would between weekly re-fits. No look-ahead.
  prepared     topics fitted over the whole history (what `deskmate demo` shows).

Reports the delay from the issue's start to its first alert, and the false alarms (alerts whose
examples are not the issue's conversations) per subject per quarter over the spike-free days.

    .venv/bin/python bench/insights_alerts.py [--seed 7] [--conversations 2400]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def evaluate(factory, tenant_id: int, truth: dict, id_map: dict[int, str], first_day: date, last_day: date) -> dict:
    from sqlalchemy import delete, func, select

    from deskmate.db import session_scope
    from deskmate.insights import alerts, trends
    from deskmate.insights.models import InsightAlert, InsightTopic

    issue = truth["emerging_issue"]
    start = date.fromisoformat(issue["start_date"])
    issue_ids = set(issue["external_ids"])
    product = issue["product"].lower()
    with session_scope(factory) as s:
        s.execute(delete(InsightAlert).where(InsightAlert.tenant_id == tenant_id))
    t = time.perf_counter()
    d = first_day
    while d <= last_day:  # one detection run per day, as the nightly job
        with session_scope(factory) as s:
            alerts.detect(s, tenant_id, day_from=d, day_to=d)
        d += timedelta(days=1)
    seconds = time.perf_counter() - t
    with session_scope(factory) as s:
        rows = s.scalars(select(InsightAlert).where(InsightAlert.tenant_id == tenant_id).order_by(InsightAlert.day)).all()
        n_topics = s.scalar(select(func.count()).select_from(InsightTopic).where(
            InsightTopic.tenant_id == tenant_id, InsightTopic.level == 1, InsightTopic.status == "active"))
        subjects = {dim: len(trends.load_series(s, tenant_id, dim).subjects) for dim in trends.DIMENSIONS}

    def share(a) -> float:
        examples = [id_map.get(c) for c in a.conversation_ids]
        return sum(e in issue_ids for e in examples) / max(len(examples), 1)

    def about_issue(a) -> bool:
        return share(a) > 0 or a.subject.lower() == product or product in [p.lower() for p in a.products]

    hits = [a for a in rows if about_issue(a) and a.day.date() >= start]
    # Stricter: the alert's own examples are mostly the issue's conversations.
    clear = [a for a in hits if share(a) >= 0.5]
    false = [a for a in rows if not about_issue(a)]
    quiet_days = (start - first_day).days  # spike-free stretch that was tested
    quarters = quiet_days / 91
    false_quiet = [a for a in false if a.day.date() < start]
    topic_false = [a for a in false_quiet if a.dimension == "topic"]
    return {
        "first_alert": hits[0].day.date().isoformat() if hits else None,
        "delay_days": (hits[0].day.date() - start).days if hits else None,
        "first_alert_title": hits[0].title if hits else None,
        "first_alert_issue_share": round(share(hits[0]), 2) if hits else None,
        "first_clear": clear[0].day.date().isoformat() if clear else None,
        "clear_delay_days": (clear[0].day.date() - start).days if clear else None,
        "first_clear_title": clear[0].title if clear else None,
        "issue_alerts": len(hits), "false_alerts": len(false), "false_before_start": len(false_quiet),
        "topics": n_topics, "subjects": subjects,
        "false_per_topic_per_quarter": round(len(topic_false) / max(n_topics * quarters, 1e-9), 3),
        "false_per_subject_per_quarter": round(len(false_quiet) / max(sum(subjects.values()) * quarters, 1e-9), 3),
        "tested_days": (last_day - first_day).days + 1, "detect_seconds": round(seconds, 1),
        "false_titles": [f"{a.day.date()} {a.title}" for a in false][:12],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--conversations", type=int, default=2400)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()

    from sqlalchemy import select

    from deskmate.config import Settings
    from deskmate.conversations.models import Conversation
    from deskmate.db import make_engine, make_sessionmaker, session_scope
    from deskmate.demo.build import build_demo
    from deskmate.demo.truth import load_truth
    from deskmate.insights import service
    from deskmate.insights.trends import MIN_BASELINE_DAYS

    work = Path(args.dir or tempfile.mkdtemp(prefix="insights-alerts-"))
    settings = Settings(data_dir=work)
    engine = make_engine(settings.database_url)
    t = time.perf_counter()
    build = build_demo(settings, seed=args.seed, conversations=args.conversations, engine=engine)
    factory = make_sessionmaker(engine)
    truth = load_truth(settings)
    print(f"demo built in {time.perf_counter() - t:.0f}s: {args.conversations} conversations, issue "
          f"{truth['emerging_issue']['topic']!r} from {truth['emerging_issue']['start_date']}")
    t = time.perf_counter()
    print("records:", service.refresh(settings, factory, build.tenant_id), f"{time.perf_counter() - t:.0f}s")
    with session_scope(factory) as s:
        id_map = {i: e for i, e in s.execute(select(Conversation.id, Conversation.external_id).where(
            Conversation.tenant_id == build.tenant_id))}
    period_start = date.fromisoformat(truth["period"]["start"])
    last_day = date.fromisoformat(truth["period"]["end"])
    first_day = period_start + timedelta(days=MIN_BASELINE_DAYS + 3)
    issue_start = date.fromisoformat(truth["emerging_issue"]["start_date"])

    cutoff = datetime.combine(issue_start - timedelta(days=2), datetime.min.time(), tzinfo=timezone.utc)
    fit = service.refit(factory, build.tenant_id, until=cutoff)
    print(f"as deployed: topics fitted on conversations before {cutoff.date()}: {fit['topics']} topics")
    deployed = evaluate(factory, build.tenant_id, truth, id_map, first_day, last_day)
    fit = service.refit(factory, build.tenant_id)
    print(f"prepared: topics fitted on the whole history: {fit['topics']} topics")
    prepared = evaluate(factory, build.tenant_id, truth, id_map, first_day, last_day)
    for name, r in (("as deployed", deployed), ("prepared", prepared)):
        print(f"\n[{name}] issue starts {issue_start}; first alert {r['first_alert']} (delay {r['delay_days']} days): "
              f"{r['first_alert_title']} [{r['first_alert_issue_share']:.0%} of its examples are the issue's]")
        print(f"  first alert whose examples are mostly the issue's: {r['first_clear']} (delay {r['clear_delay_days']} days): "
              f"{r['first_clear_title']}")
        print(f"  alerts about the issue: {r['issue_alerts']}; false alerts: {r['false_alerts']} "
              f"({r['false_before_start']} on the {(issue_start - first_day).days} spike-free days tested)")
        print(f"  false alarms per topic per quarter: {r['false_per_topic_per_quarter']} ({r['topics']} topics); "
              f"per subject per quarter over all dimensions: {r['false_per_subject_per_quarter']} (subjects {r['subjects']})")
        print(f"  {r['tested_days']} daily detection runs in {r['detect_seconds']}s")
        for title in r["false_titles"]:
            print(f"    false: {title}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
