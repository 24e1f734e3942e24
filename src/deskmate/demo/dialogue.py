"""Writes one planned conversation as a canonical record: customer and agent turns, actions with values, times.

The procedure's steps are taken in policy order unless the plan carries a violation
(a step skipped, or a sensitive step taken before verification); the conversation
stops where its outcome says (an escalation, a blocker, a customer who goes quiet).
What really happened is returned beside the record as ground truth; none of it is
written into the text.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from deskmate.demo import steps as step_text
from deskmate.demo.phrasing import agent_pick, date_text, days_ago_text, fill, roughen, vary_words, with_mood
from deskmate.demo.policy import SENSITIVE_ACTIONS, VERIFICATION_ACTIONS, Policy, Step
from deskmate.demo.schedule import SHORTCUT_STEP, Plan
from deskmate.demo.world import NEXT_THRESHOLD, TIER_BENEFITS, TIER_SHIPPING, World

ORDER_AGE_DAYS = {"processing": (0, 2), "shipped": (1, 4), "in_transit": (2, 6), "out_for_delivery": (3, 6),
                  "delivered": (5, 24), "refunded": (18, 40), "return_received": (14, 30)}


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class ConversationWriter:
    def __init__(self, policy: Policy, texts: dict, world: World, plan: Plan, rng: random.Random,
                 held_back: set[str], emerging: dict, emerging_start: datetime):
        self.policy, self.texts, self.world, self.plan, self.rng = policy, texts, world, plan, rng
        self.reason = policy.reasons[plan.reason]
        self.agent, self.customer = plan.agent, plan.customer
        self.held_back, self.emerging, self.emerging_start = held_back, emerging, emerging_start
        self.entries: list[dict] = []
        self.t = plan.started_at
        self.mood = plan.mood
        self.known: set[str] = set()  # what the agent has: typed by the customer, or shown by the desk
        self.given: set[str] = set()  # what the customer typed when asked
        self.repeats = 0
        self.slow = 6.0 if plan.channel == "messenger" else 1.0  # messenger customers reply in minutes

    # ---- turns -------------------------------------------------------------------------
    def _advance(self, lo: float, hi: float, factor: float = 1.0) -> None:
        self.t += timedelta(seconds=self.rng.uniform(lo, hi) * factor * self.slow)

    def customer_says(self, text: str, *, first: bool = False) -> None:
        if not first:
            self._advance(8, 70)
        self.entries.append({"role": "customer", "text": text, "time": _iso(self.t)})

    def agent_says(self, template: str) -> None:
        self._advance(8, 40, self.agent.slowness)
        self.entries.append({"role": "agent", "text": fill(template, self.slots), "time": _iso(self.t)})

    def agent_action(self, action: str, values: dict) -> None:
        self._advance(3, 15, self.agent.slowness)
        self.entries.append({"role": "agent", "action": action, "values": values, "time": _iso(self.t)})

    def pool(self, key: str, *path: str) -> str:
        node = self.texts
        for p in path:
            node = node[p]
        return agent_pick(self.rng, node, self.agent.id, key)

    def customer_text(self, template: str, strength: float = 0.4) -> str:
        template = vary_words(template, self.texts["synonyms"], self.rng)
        text = fill(roughen(template, self.rng), self.slots)
        return with_mood(text, self.mood, self.texts["mood"], self.rng, strength)

    # ---- set-up ------------------------------------------------------------------------
    def _setup(self) -> None:
        plan, rng, reason = self.plan, self.rng, self.reason
        statuses = reason.extra.get("order_statuses")
        needs_order = statuses or any(s.action in ("validate-purchase", "update-order") for s in reason.procedure)
        order = None
        if plan.reopen_of is not None and plan.reopen_of.order is not None:
            order = plan.reopen_of.order
        elif needs_order or rng.random() < 0.4:
            status = rng.choice(statuses) if statuses else "delivered"
            lo, hi = ORDER_AGE_DAYS.get(status, (3, 20))
            placed = self.t - timedelta(days=rng.randint(lo, hi), hours=rng.randint(0, 20))
            product = self.emerging["product"] if plan.emerging else None
            if product and placed < self.emerging_start - timedelta(days=30):
                placed = self.emerging_start - timedelta(days=rng.randint(2, 25))
            order = self.world.new_order(self.customer, placed, status, product=product)
            if plan.reason == "unknown_charge" and order.fee == 0:
                order.fee = 6.95  # the erroneous charge the customer asks about
                order.amount += order.fee
        plan.order = order
        self.order = order
        product = order.products[0] if order else self.world.pick_product(self.t)
        price = self.world.products[product]["price"]
        c, sub = self.customer, self.customer.subscription or {}
        new_price = round(price * rng.choice((0.7, 0.75, 0.8)), 2)
        topic = rng.choice(reason.extra.get("topics", ["general"]))
        self.slots = {
            "first": c.first, "name": c.name, "name_lower": c.name.lower(), "agent": self.agent.first,
            "email": c.email, "phone": c.phone, "zip_code": c.zip_code, "username": c.username,
            "account_id": c.account_id, "address": c.address, "product": product, "level": c.tier,
            "order_id": order.id if order else "", "fee": f"{(order.fee if order else 6.95):.2f}",
            "amount": f"{price:.2f}", "old_price": f"{price:.2f}", "new_price": f"{new_price:.2f}",
            "difference": f"{price - new_price:.2f}",
            "days_ago": days_ago_text((self.t - order.placed_at).days if order else 3),
            "eta": date_text(self.t + timedelta(days=rng.randint(1, 4))),
            "delivered_date": date_text(self.t - timedelta(days=rng.randint(1, 3))),
            "refund_date": date_text(self.t - timedelta(days=rng.randint(1, 8))),
            "code": rng.choice(self.texts["catalogue"]["promo_codes"]),
            "code_new": f"LOOM-{rng.randint(1000, 9999)}{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}",
            "code_expiry": date_text(self.t - timedelta(days=rng.randint(1, 6))),
            "discount": rng.choice(("15%", "20%", "$20")),
            "plan": sub.get("plan", "monthly"), "sub_status": {"past_due": "past due"}.get(sub.get("status"), "active"),
            "due_date": date_text(datetime.fromisoformat(sub["due_date"])) if sub else "", "amount_due": f"{sub.get('amount', 25.0):.2f}",
            "level_shipping": TIER_SHIPPING[c.tier], "level_benefit": TIER_BENEFITS[c.tier],
            "next_threshold": NEXT_THRESHOLD[c.tier], "topic": topic,
            "material": self.world.products[product]["material"], "care": self.world.products[product]["care"],
            "new_address": self.world.random_address(),
            "new_phone": f"({rng.choice(self.texts['catalogue']['area_codes'])}) {rng.randint(201, 989)}-{rng.randint(1000, 9999)}",
            "team": reason.escalation_team, "sla": "1 business day", "refund_method": "original payment method",
            "refund_time": "3 to 5 business days", "link": reason.extra.get("link", "password reset"),
            "payment_method": "PayPal",
        }
        self.refund_amount = {"cancel_order": order.amount if order else price,
                              "price_adjustment": price - new_price}.get(plan.reason, price)

    # ---- the conversation ---------------------------------------------------------------
    def _opening(self) -> None:
        plan, rng, texts = self.plan, self.rng, self.texts
        openings = self.emerging["openings"] if plan.emerging else texts["openings"][plan.reason]
        if isinstance(openings, dict):  # openings grouped by topic: the answer must match the question
            self.slots["topic"] = rng.choice(sorted(openings))
            openings = openings[self.slots["topic"]]
        template = rng.choice(openings)
        if rng.random() < 0.3:
            template = f"{template.rstrip()}{'' if template.rstrip()[-1:] in '.!?' else '.'} {rng.choice(texts['context'][self.reason.flow])}"
        for slot in ("order_id", "code"):
            if "{" + slot + "}" in template:
                self.known.add(slot)
        opening = self.customer_text(template, strength=1.0)
        if plan.reopen_of is not None:
            opening = f"{rng.choice(texts['reopen_prefix'])} {opening}"
        kind = "named" if rng.random() < 0.5 else "anonymous"
        ack_pool = "acknowledge_question" if self.reason.flow == "store_questions" or plan.reason == "shipping_cost" else "acknowledge"
        if kind == "named":  # a signed-in customer: the desk shows who they are
            self.known.add("customer_name")
        if plan.vague:
            self.customer_says(roughen(rng.choice(texts["vague_openers"]), rng), first=True)
            self._advance(20, 200)
            self.agent_says(self.pool("greet", "greetings", kind))
            self.customer_says(opening)
            self.agent_says(self.pool(ack_pool, ack_pool))
        else:
            self.customer_says(opening, first=True)
            self._advance(20, 200)
            welcome, ack = self.pool("welcome", "welcome", kind), self.pool(ack_pool, ack_pool)
            if rng.random() < 0.6:
                self.agent_says(f"{welcome} {ack}")
            else:
                self.agent_says(welcome)
                self.agent_says(ack)
        if self.mood in ("angry", "frustrated") and (self.plan.empathy if self.plan.empathy is not None
                                                     else rng.random() < self.agent.empathy):
            self.agent_says(self.pool("empathy", "empathy"))
            if self.mood == "angry" and rng.random() < 0.5:
                self.mood = "frustrated"
        elif self.mood == "angry" and self.agent.skip > 2 and rng.random() < 0.25:
            self.agent_says(rng.choice(texts["sloppy"]))  # a forbidden phrase, for the quality scorecard to catch
            self.mood = "angry"

    def _executed_steps(self) -> tuple[list[Step], dict]:
        """The steps as the agent took them, and the violation that order contains."""
        steps = list(self.reason.procedure)
        info = {"skipped": [], "out_of_order": []}
        if self.plan.shortcut:  # the team habit (only with consequences): the documentation step left out
            i = [s.action for s in steps].index(SHORTCUT_STEP)
            info["skipped"].append(SHORTCUT_STEP)
            info["first_index"] = i
            return steps[:i] + steps[i + 1 :], info
        if not self.plan.violation or len(steps) < 2:
            return steps, info
        rng = self.rng
        verif = [i for i, s in enumerate(steps[:-1]) if s.action in VERIFICATION_ACTIONS]
        if rng.random() < 0.6:
            i = rng.choice(verif) if verif and rng.random() < 0.7 else rng.randrange(len(steps) - 1)
            info["skipped"].append(steps[i].action)
            info["first_index"] = i
            return steps[:i] + steps[i + 1 :], info
        pairs = [(i, j) for i in verif for j in range(i + 1, len(steps)) if steps[j].action in SENSITIVE_ACTIONS]
        if pairs and rng.random() < 0.75:
            i, j = rng.choice(pairs)
        else:  # two neighbouring steps swapped
            i = rng.randrange(len(steps) - 1)
            j = i + 1
        moved = steps[j]
        info["out_of_order"].append({"action": moved.action, "ahead_of": [s.action for s in steps[i:j]]})
        info["first_index"] = i
        return steps[:i] + [moved] + steps[i:j] + steps[j + 1 :], info

    def _stop_point(self, executed: list[Step], info: dict) -> int:
        n, rng, outcome = len(executed), self.rng, self.plan.outcome
        if outcome == "resolved":
            return n
        if outcome == "escalated":
            k = n if rng.random() < 0.2 else rng.randint(1, max(1, n - 1))
        elif outcome == "abandoned":
            k = rng.randint(0, n - 1)
        else:
            k = rng.randint(1, max(1, n - 1))
        need = info.get("first_index")
        if need is not None and k < need + 1:
            if outcome == "abandoned" and need + 1 > n - 1:
                info["skipped"], info["out_of_order"] = [], []  # the break would never show: no violation
            else:
                k = min(n, need + 1)
        return k

    def write(self) -> tuple[dict, dict]:
        self._setup()
        self._opening()
        executed, info = self._executed_steps()
        stop = self._stop_point(executed, info)
        blocker = None
        if self.plan.outcome == "unresolved" and not (info["skipped"] or info["out_of_order"]):
            verify = [i for i, s in enumerate(executed) if s.action == "verify-identity"]
            if verify and self.rng.random() < 0.4:
                stop, blocker = verify[0], "verify"
        for index, step in enumerate(executed[:stop]):
            step_text.take_step(self, step, index)
        if blocker == "verify":
            step_text.failed_verification(self, executed[stop])
        ending = step_text.ENDINGS[self.plan.outcome]
        ending(self, executed[stop] if stop < len(executed) else None)
        return self._record(info), self._truth(info, executed, stop, blocker)

    # ---- outputs -----------------------------------------------------------------------
    def _record(self, info: dict) -> dict:
        plan = self.plan
        labels = [self.reason.flow] + (["vip"] if self.customer.tier == "gold" else [])
        article = self.policy.primary_article(plan.reason)
        attributes = {"knowledge_articles": [article]} if article and article not in self.held_back else {}
        return {
            "id": plan.external_id, "source": "demo", "channel": plan.channel,
            "started_at": _iso(plan.started_at), "ended_at": self.entries[-1]["time"], "status": "closed",
            "outcome": plan.outcome, "reason": plan.reason, "labels": labels, "subject": None,
            "customer": None,  # filled by the generator once every order of this customer exists
            "agent": {"id": self.agent.id, "name": self.agent.name},
            "entries": self.entries, "attributes": attributes,
        }

    def _truth(self, info: dict, executed: list[Step], stop: int, blocker: str | None) -> dict:
        plan = self.plan
        return {
            "outcome": plan.outcome, "reason": plan.reason, "agent": self.agent.id, "customer": self.customer.id,
            "started_at": _iso(plan.started_at), "skipped": info["skipped"], "out_of_order": info["out_of_order"],
            "policy_ok": not (info["skipped"] or info["out_of_order"]),
            "actions_taken": [s.action for s in executed[:stop]], "procedure_complete": stop == len(executed),
            "blocker": blocker or ("policy" if plan.outcome == "unresolved" else None),
            "emerging": plan.emerging, "reopen_of": plan.reopen_of.external_id if plan.reopen_of else None,
            "vague_opening": plan.vague, "start_mood": plan.mood, "end_mood": self.mood, "repeats": self.repeats,
            "article": self.policy.primary_article(plan.reason),
            "order_id": self.order.id if self.order else None,
        }
