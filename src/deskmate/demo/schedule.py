"""When customers write, about what, to whom, and how it ends: the plan before any words are written.

Volume follows a weekly cycle (Monday peak, quiet weekends), business hours and a
slow upward trend; the emerging issue ramps up day by day over its last 12 days;
reopens come 1 to 6 days after a first contact that did not settle things.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from deskmate.demo.policy import Policy
from deskmate.demo.world import Agent, Customer, World

DAYS = 90
WEEKDAY_WEIGHT = (1.25, 1.15, 1.1, 1.05, 0.95, 0.7, 0.6)  # Monday first
# Local (US Eastern) hours 7..22: a morning peak, a lunchtime dip, an evening shoppers' bump.
HOUR_WEIGHT = (1, 2, 4, 6, 7, 6, 5, 6, 6, 5, 4, 4, 5, 5, 4, 2)
UTC_OFFSET_HOURS = 5
WEEKDAY_REASON_BOOST = {0: {"order_status": 1.3, "missing_package": 1.4}, 5: {"product_question": 1.3, "checkout_error": 1.2},
                        6: {"product_question": 1.3, "checkout_error": 1.2}}
HOT_REASONS = {"missing_package", "damaged_item", "refund_status", "unknown_charge", "checkout_error"}
CALM_REASONS = {"product_question", "shipping_cost", "membership_benefits"}
SUBSCRIPTION_REASONS = {"subscription_bill", "cancel_subscription"}
REOPEN_AFFINITY = {"unresolved": 0.35, "abandoned": 0.25, "escalated": 0.2, "resolved": 0.03}


@dataclass
class Plan:
    started_at: datetime
    reason: str
    customer: Customer
    agent: Agent
    outcome: str
    mood: str
    channel: str = "chat"
    emerging: bool = False
    vague: bool = False
    violation: bool = False
    empathy: bool | None = None  # drawn up front only when moves have consequences (see `apply_consequences`)
    shortcut: bool = False  # the team habit of skipping the documentation step (only with consequences)
    reopen_of: Plan | None = None
    key: str = ""
    external_id: str = ""
    order: object = None  # set by the writer, reused by a reopen
    reopened_by: list = field(default_factory=list)


def _normalise(weights: dict[str, float]) -> dict[str, float]:
    total = sum(weights.values())
    return {k: v / total for k, v in weights.items()}


def _mood(rng: random.Random, reason: str, reopen: bool = False) -> str:
    if reopen:
        w = (0.35, 0.45, 0.15, 0.05)
    elif reason in HOT_REASONS:
        w = (0.25, 0.30, 0.30, 0.15)
    else:
        w = (0.10, 0.22, 0.43, 0.25)
    return rng.choices(("angry", "frustrated", "neutral", "friendly"), w)[0]


def _outcome(rng: random.Random, reason: str, mood: str, agent: Agent) -> str:
    p = {"resolved": 0.74 * agent.skill, "escalated": 0.09, "abandoned": 0.10, "unresolved": 0.07}
    if mood == "angry":
        p["escalated"] *= 2.2
        p["unresolved"] *= 1.5
    elif mood == "friendly":
        p["resolved"] *= 1.15
    if reason in CALM_REASONS:
        p["escalated"] *= 0.3
    if reason == "missing_package":
        p["escalated"] *= 1.8
    if reason == "checkout_error":
        p["unresolved"] *= 2.0
    p = _normalise(p)
    return rng.choices(list(p), list(p.values()))[0]


class Scheduler:
    def __init__(self, rng: random.Random, policy: Policy, world: World, agents: list[Agent], reference: datetime,
                 emerging: dict):
        self.rng, self.policy, self.world, self.agents = rng, policy, world, agents
        self.reference = reference
        self.first_day = reference - timedelta(days=DAYS)
        self.emerging = emerging
        self._contacts: dict[str, list[tuple[datetime, str]]] = {}
        # Some customers write far more than others: a skewed but bounded activity per customer.
        self._activity = {c.id: rng.lognormvariate(0, 0.5) for c in world.customers}

    def day(self, index: int) -> datetime:
        return self.first_day + timedelta(days=index)

    def _time_on(self, day: datetime) -> datetime:
        hour = 7 + self.rng.choices(range(len(HOUR_WEIGHT)), HOUR_WEIGHT)[0]
        return day + timedelta(hours=hour + UTC_OFFSET_HOURS, minutes=self.rng.randint(0, 59), seconds=self.rng.randint(0, 59))

    def _agent_for(self, when: datetime) -> Agent:
        local_day = (when - timedelta(hours=UTC_OFFSET_HOURS)).weekday()
        on_shift = [a for a in self.agents if local_day in a.workdays] or self.agents
        return self.rng.choices(on_shift, [a.share for a in on_shift])[0]

    def _customer_for(self, reason: str, when: datetime) -> Customer:
        """A customer without a contact on the same reason within 7 days (planned reopens are the only reopens)."""
        pool = self.world.customers
        if reason in SUBSCRIPTION_REASONS:
            pool = [c for c in pool if c.subscription] or pool
        weights = [self._activity[c.id] for c in pool]
        for _ in range(20):
            c = self.rng.choices(pool, weights)[0]
            if all(r != reason or abs((when - t).days) > 7 for t, r in self._contacts.get(c.id, [])):
                break
        self._contacts.setdefault(c.id, []).append((when, reason))
        return c

    def _day_weights(self) -> list[float]:
        weights = []
        for i in range(DAYS):
            d = self.day(i)
            noise = math.exp(self.rng.gauss(0, 0.1))
            weights.append(WEEKDAY_WEIGHT[d.weekday()] * (1 + 0.12 * i / (DAYS - 1)) * noise)
        return weights

    def plan(self, total: int, emerging_share: float, reopen_share: float) -> list[Plan]:
        emerging = self._emerging_plans(max(12, round(total * emerging_share)))
        n_reopen = round(total * reopen_share)
        self._day_weight = self._day_weights()
        primary = [self._primary() for _ in range(total - len(emerging) - n_reopen)]
        reopens = self._reopens(primary, n_reopen)
        primary += [self._primary() for _ in range(n_reopen - len(reopens))]  # too few candidates in a tiny demo
        plans = primary + emerging + reopens
        plans.sort(key=lambda p: p.started_at)
        return plans

    def _primary(self) -> Plan:
        rng = self.rng
        i = rng.choices(range(DAYS), self._day_weight)[0]
        when = self._time_on(self.day(i))
        boost = WEEKDAY_REASON_BOOST.get(self.day(i).weekday(), {})
        reasons = list(self.policy.reasons)
        reason = rng.choices(reasons, [self.policy.reasons[r].weight * boost.get(r, 1.0) for r in reasons])[0]
        return self._plan(when, reason)

    def _plan(self, when: datetime, reason: str, *, emerging: bool = False, reopen_of: Plan | None = None) -> Plan:
        rng = self.rng
        agent = self._agent_for(when)
        if reopen_of is not None:
            customer = reopen_of.customer
            self._contacts.setdefault(customer.id, []).append((when, reason))
            mood = _mood(rng, reason, reopen=True)
            outcome = rng.choices(("resolved", "escalated", "unresolved", "abandoned"), (0.70, 0.20, 0.06, 0.04))[0]
        else:
            customer = self._customer_for(reason, when)
            mood = _mood(rng, "damaged_item" if emerging else reason)
            outcome = (rng.choices(("resolved", "escalated", "unresolved", "abandoned"), (0.70, 0.20, 0.05, 0.05))[0]
                       if emerging else _outcome(rng, reason, mood, agent))
        return Plan(when, reason, customer, agent, outcome, mood, channel="messenger" if rng.random() < 0.12 else "chat",
                    emerging=emerging, vague=rng.random() < 0.15 and reopen_of is None, reopen_of=reopen_of)

    def _emerging_plans(self, count: int) -> list[Plan]:
        """Volume rising day by day from the issue's first day to the end of the period."""
        days = self.emerging["days_before_end"]
        ramp = [(i + 2) ** 1.2 for i in range(days)]
        raw = [count * w / sum(ramp) for w in ramp]
        counts = [math.floor(x) for x in raw]
        for i in sorted(range(days), key=lambda i: raw[i] - counts[i], reverse=True)[: count - sum(counts)]:
            counts[i] += 1
        counts[0] = max(counts[0], 1)
        plans = []
        for offset, n in enumerate(counts):
            day = self.day(DAYS - days + offset)
            plans += [self._plan(self._time_on(day), self.emerging["reason"], emerging=True) for _ in range(n)]
        return plans

    def _reopens(self, plans: list[Plan], count: int) -> list[Plan]:
        last = self.day(DAYS - 1)
        candidates = [p for p in plans if p.started_at < last - timedelta(days=1) and not p.emerging]
        chosen: list[Plan] = []
        weights = [REOPEN_AFFINITY[p.outcome] for p in candidates]
        while len(chosen) < count and candidates:
            i = self.rng.choices(range(len(candidates)), weights)[0]
            chosen.append(candidates.pop(i))
            weights.pop(i)
        reopens = []
        for original in chosen:
            gap = min(self.rng.randint(1, 6), (last - original.started_at).days)
            day = (original.started_at - timedelta(hours=UTC_OFFSET_HOURS)).replace(hour=0, minute=0, second=0, microsecond=0)
            plan = self._plan(self._time_on(day + timedelta(days=max(gap, 1))), original.reason, reopen_of=original)
            original.reopened_by.append(plan)
            reopens.append(plan)
        return reopens

    def assign_violations(self, plans: list[Plan], skip_rate: float) -> None:
        """A known share of conversations break the procedure; sloppy agents break it more often."""
        mean_skip = sum(p.agent.skip for p in plans) / max(len(plans), 1)
        for p in plans:
            p.violation = self.rng.random() < min(0.9, skip_rate * p.agent.skip / mean_skip)


# With consequences, what the agent does changes how it ends: an upset customer who gets no word of
# empathy, or a procedure broken (a step skipped or taken out of order), turns some would-be resolutions
# into escalations (angry customers) or unresolved contacts.
NO_EMPATHY_FAILS = 0.45
VIOLATION_FAILS = 0.5
# And a team habit, the case where clicks mislead: most agents skip the documentation step (nobody
# downstream then knows why the customer wrote, and most such cases fail); careful agents rarely do.
# Skipping it is the *popular* move, so a ranker that follows what agents click learns to suggest it,
# while the conversations that went well mostly took the step.
SHORTCUT_STEP = "record-reason"
SHORTCUT_RATE = {True: 0.35, False: 0.85}  # careful agent (closing care >= CAREFUL) or not
SHORTCUT_FAILS = 0.7
CAREFUL = 0.95


def apply_consequences(rng: random.Random, plans: list[Plan], policy: Policy) -> None:
    """Draw each upset customer's word of empathy and the documentation shortcut now, and let them, and
    violations, decide some outcomes. Off by default: the demo's documented figures use the world without it."""
    for p in plans:
        if p.mood in ("angry", "frustrated"):
            p.empathy = rng.random() < p.agent.empathy
        if not p.violation and SHORTCUT_STEP in policy.reasons[p.reason].actions[:-1]:
            p.shortcut = rng.random() < SHORTCUT_RATE[p.agent.care >= CAREFUL]
        kept = ((1.0 - NO_EMPATHY_FAILS if p.empathy is False else 1.0) * (1.0 - VIOLATION_FAILS if p.violation else 1.0)
                * (1.0 - SHORTCUT_FAILS if p.shortcut else 1.0))
        if p.outcome == "resolved" and kept < 1.0 and rng.random() < 1.0 - kept:
            p.outcome = "escalated" if p.mood == "angry" else "unresolved"
