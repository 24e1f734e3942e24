"""From a seed, a complete support history for Loomhouse, with the ground truth every later capability is measured on.

`generate(seed=7, conversations=2400)` returns canonical JSONL records (docs/formats.md)
for the history to import, the last few percent held out as "live" conversations
for replays, the knowledge base minus the articles deliberately held back, and a
truth dictionary: per conversation the true outcome, reason, policy steps skipped
or taken out of order, reopens and the emerging issue. The same seed and reference
date always give the same workspace, byte for byte.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from deskmate.demo.dialogue import ConversationWriter
from deskmate.demo.policy import Article, Policy, load_policy, load_texts
from deskmate.demo.schedule import DAYS, Plan, Scheduler, apply_consequences
from deskmate.demo.world import Agent, World, build_agents
from deskmate.errors import InvalidInput

# Order statuses a resolved conversation leaves behind; orders still moving after
# ten days have arrived. Live conversations keep their orders as they were.
SETTLED_STATUS = {"cancel_order": "cancelled", "refund_initiate": "refunded", "damaged_item": "refunded",
                  "return_exchange": "exchange_requested", "missing_package": "reshipped"}
IN_FLIGHT = {"processing", "shipped", "in_transit", "out_for_delivery"}


@dataclass
class DemoData:
    seed: int
    reference: datetime
    records: list[dict]
    live: list[dict]
    truth: dict
    articles: list[Article]
    held_back: list[Article]
    procedures: list[dict]
    agents: list[Agent]
    policy: Policy


def reference_datetime(reference_date: date | str | None = None) -> datetime:
    """Midnight UTC of the given day (default today), so 'the last 90 days' are always the last 90 days."""
    if reference_date is None:
        day = datetime.now(UTC).date()
    elif isinstance(reference_date, str):
        try:
            day = date.fromisoformat(reference_date)
        except ValueError:
            raise InvalidInput(f"reference date must be YYYY-MM-DD; got {reference_date!r}") from None
    else:
        day = reference_date
    return datetime.combine(day, time(0), tzinfo=UTC)


def _settle_orders(plans: list[Plan], live_ids: set[str], reference: datetime) -> None:
    live_orders = {id(p.order) for p in plans if p.external_id in live_ids and p.order is not None}
    for p in plans:
        o = p.order
        if o is None or id(o) in live_orders:
            continue
        if p.outcome == "resolved" and p.reason in SETTLED_STATUS:
            o.status = SETTLED_STATUS[p.reason]
        elif o.status in IN_FLIGHT and o.placed_at < reference - timedelta(days=10):
            o.status = "delivered"


def generate(
    seed: int = 7,
    conversations: int = 2400,
    *,
    reference_date: date | str | None = None,
    holdback: int = 4,
    live_fraction: float = 0.05,
    skip_rate: float = 0.08,
    emerging_share: float = 0.045,
    reopen_share: float = 0.05,
    consequences: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> DemoData:
    if conversations < 50:
        raise InvalidInput(f"conversations: at least 50 are needed for a meaningful workspace; got {conversations}")
    if not 0 <= live_fraction < 0.5 or not 0 <= skip_rate <= 0.5:
        raise InvalidInput("live_fraction must be in [0, 0.5) and skip_rate in [0, 0.5]")
    policy, texts = load_policy(), load_texts()
    reference = reference_datetime(reference_date)
    emerging = texts["catalogue"]["emerging_issue"]
    held_ids = policy.choose_holdback(random.Random(f"{seed}:holdback"), holdback, exclude_reasons=(emerging["reason"],))
    agents = build_agents(random.Random(f"{seed}:agents"))
    world = World(random.Random(f"{seed}:world"), texts["catalogue"], reference, n_customers=max(40, conversations // 4))
    scheduler = Scheduler(random.Random(f"{seed}:schedule"), policy, world, agents, reference, emerging)
    plans = scheduler.plan(conversations, emerging_share, reopen_share)
    scheduler.assign_violations(plans, skip_rate)
    if consequences:  # a separate stream: without consequences, every other draw is as before
        apply_consequences(random.Random(f"{seed}:consequences"), plans, policy)
    for i, plan in enumerate(plans):
        plan.external_id = f"demo-{i + 1:05d}"

    emerging_start = reference - timedelta(days=emerging["days_before_end"])
    rng = random.Random(f"{seed}:dialogue")
    records, truths = [], {}
    for plan in plans:
        writer = ConversationWriter(policy, texts, world, plan, rng, set(held_ids), emerging, emerging_start)
        record, truth = writer.write()
        records.append(record)
        truths[plan.external_id] = truth
        if on_progress:
            on_progress(1)

    n_live = round(len(records) * live_fraction)
    live_ids = {r["id"] for r in records[len(records) - n_live:]}
    _settle_orders(plans, live_ids, reference)
    for plan, record in zip(plans, records):
        record["customer"] = plan.customer.canonical()
        truths[plan.external_id]["live"] = plan.external_id in live_ids
        truths[plan.external_id]["reopened_by"] = [p.external_id for p in plan.reopened_by]
    history, live = records[: len(records) - n_live], records[len(records) - n_live:]

    held_back = [policy.articles[a] for a in held_ids]
    articles = [a for a in policy.articles.values() if a.id not in held_ids]
    procedures = [
        {"reason": r.id, "name": r.title, "actions": r.actions,
         "article": policy.primary_article(r.id) if policy.primary_article(r.id) not in held_ids else None,
         "steps": [{"action": s.action, "values": list(s.values)} for s in r.procedure]}
        for r in policy.reasons.values()
    ]
    emerging_ids = [p.external_id for p in plans if p.emerging]
    daily = Counter(truths[i]["started_at"][:10] for i in emerging_ids)
    truth = {
        "seed": seed, "reference_date": reference.date().isoformat(), "source": "demo",
        "period": {"start": (reference - timedelta(days=DAYS)).date().isoformat(), "end": reference.date().isoformat()},
        "options": {"conversations": conversations, "holdback": holdback, "live_fraction": live_fraction,
                    "skip_rate": skip_rate, "emerging_share": emerging_share, "reopen_share": reopen_share,
                    "consequences": consequences},
        "emerging_issue": {
            "topic": emerging["topic"], "product": emerging["product"], "reason": emerging["reason"],
            "start_date": emerging_start.date().isoformat(), "phrases": emerging["phrases"],
            "record_reason": emerging["record_reason"], "external_ids": emerging_ids, "daily_counts": dict(sorted(daily.items())),
        },
        "held_back_articles": [{"external_id": a.id, "title": a.title, "body": a.body, "reason": a.reason,
                                "tags": list(a.tags)} for a in held_back],
        "agents": [{"id": a.id, "name": a.name, "skip": a.skip, "empathy": a.empathy, "slowness": a.slowness,
                    "care": a.care, "skill": a.skill} for a in agents],
        "procedures": procedures,
        "conversations": truths,
        "live": live,
    }
    return DemoData(seed, reference, history, live, truth, articles, held_back, procedures, agents, policy)
