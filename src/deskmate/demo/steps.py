"""The turns around each procedure step (ask, answer, act, confirm) and the four ways a conversation ends."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from deskmate.demo.phrasing import fill, human_list, roughen, with_mood
from deskmate.demo.policy import CUSTOMER_SLOTS, SENSITIVE_ACTIONS, Step

if TYPE_CHECKING:
    from deskmate.demo.dialogue import ConversationWriter

LOOKUPS = {"shipping-status", "subscription-status", "membership", "ask-the-oracle", "search-faq", "make-password"}
OPTIONAL_DONE = {"pull-up-account", "verify-identity", "record-reason", "enter-details"}
REFUND_TIME = {"original payment method": "3 to 5 business days", "store credit": "a few minutes",
               "gift card": "7 to 10 days", "paper check": "7 to 10 days"}
WORSE = {"friendly": "neutral", "neutral": "frustrated", "frustrated": "angry", "angry": "angry"}


def _answer(w: ConversationWriter, slots: list[str]) -> None:
    """The customer gives what was asked, in one message or a few; their mood colours the last one."""
    rng = w.rng
    parts = [fill(roughen(rng.choice(w.texts["answers"][s]), rng), w.slots) for s in slots]
    if len(parts) > 1 and rng.random() < 0.25:
        *first, last = parts
    else:
        first, last = [], rng.choice(w.texts["answers"]["joiners"]).join(parts)
    for part in first:
        w.customer_says(part)
    w.customer_says(with_mood(last, w.mood, w.texts["mood"], rng, 0.2))


def _maybe_repeat(w: ConversationWriter) -> None:
    """Agents sometimes ask again for something already given; customers notice."""
    p = 0.04 + (0.12 if w.plan.outcome in ("escalated", "unresolved") else 0.0)
    asked = sorted(w.given & set(w.texts["fields"]))  # only what the customer typed: re-asking it is what annoys them
    if not asked or w.rng.random() >= p:
        return
    slot = w.rng.choice(asked)
    w.slots["fields"] = w.texts["fields"][slot]
    w.agent_says(w.pool("repeat", "repeat", "agent"))
    plain = w.rng.choice(w.texts["answers"][slot])
    w.mood = WORSE[w.mood]
    w.customer_says(w.customer_text(w.rng.choice(w.texts["repeat"]["customer"]).replace("{answer}", plain), 0.8))
    w.repeats += 1


def _choose(w: ConversationWriter, options: dict) -> tuple[str, str]:
    value = w.rng.choice(sorted(options))
    return value, w.rng.choice(options[value])


def ask(w: ConversationWriter, step: Step, *, answer: bool = True) -> bool:
    """Ask the customer for what this step needs; False when the agent already has it."""
    rng, texts, reason, a = w.rng, w.texts, w.plan.reason, step.action
    need = [v for v in step.values if v in CUSTOMER_SLOTS and v not in w.known]
    reply: str | None = None
    if need:
        key = "ask-the-oracle:code" if a == "ask-the-oracle" else a
        key = key if key in texts["ask"] else "validate-purchase"  # any "could I have {fields}" will do
        w.slots["fields"] = human_list([texts["fields"].get(v, v) for v in need])
        w.agent_says(w.pool(key, "ask", key))
        if answer:
            _answer(w, need)
            w.known.update(need)
            w.given.update(need)
            _maybe_repeat(w)
        return True
    if a == "record-reason":
        pool = texts["record_reason"]["ask"].get(reason, texts["record_reason"]["ask_default"])
        w.agent_says(w.pool(f"reason:{reason}", "record_reason", "ask", reason) if reason in texts["record_reason"]["ask"]
                     else rng.choice(pool))
        if w.plan.emerging:
            w.recorded_reason, reply = w.emerging["record_reason"], rng.choice(w.emerging["reason_answers"])
        else:
            options = texts["record_reason"]["options"].get(reason, {"other": ["it's a long story"]})
            w.recorded_reason, reply = _choose(w, options)
    elif a == "enter-details" and "details" in step.values:
        spec = texts["details"][reason]
        w.agent_says(w.pool(f"details:{reason}", "details", reason, "ask"))
        reply = rng.choice(w.emerging["details"] if w.plan.emerging else spec["options"])
        w.details = ("troubleshoot: " if reason == "checkout_error" else "") + reply
    elif a == "enter-details" and "full_address" in step.values:
        w.agent_says(w.pool("ask:address", "ask", "enter-details:full_address"))
        reply = rng.choice(texts["answers"]["address_confirm"])
    elif a == "enter-details" and "phone" in step.values:
        w.agent_says(w.pool("ask:phone", "ask", "enter-details:phone"))
        reply = rng.choice(texts["answers"]["new_phone"])
    elif a == "offer-refund" and "refund_method" not in w.reason.extra:
        w.agent_says(w.pool("ask:refund", "ask", "offer-refund:refund_method"))
        method, reply = _choose(w, texts["answers"]["refund_method"])
        w.slots["refund_method"] = "original payment method" if method == "original payment" else method
        w.slots["refund_time"] = REFUND_TIME[w.slots["refund_method"]]
    elif a == "update-order" and "full_address" in step.values:
        w.agent_says(w.pool("ask:new-address", "ask", "update-order:full_address"))
        reply = rng.choice(texts["answers"]["new_address"])
    elif a == "update-account" and w.reason.extra.get("field") in ("address", "payment method"):
        field = w.reason.extra["field"]
        key = "update-account:address" if field == "address" else "update-account:payment_method"
        w.agent_says(w.pool(key, "ask", key))
        if field == "address":
            reply = rng.choice(texts["answers"]["new_address"])
        else:
            method, reply = _choose(w, texts["answers"]["payment_method"])
            w.slots["payment_method"] = method
    else:
        return False
    if answer:
        w.customer_says(w.customer_text(reply, 0.3))
    return True


def _values(w: ConversationWriter, step: Step) -> dict:
    c, order, extra, a = w.customer, w.order, w.reason.extra, step.action
    sub = c.subscription or {}
    out = {}
    for slot in step.values:
        if slot in ("customer_name", "account_id", "username", "email", "zip_code"):
            value = c.name if slot == "customer_name" else getattr(c, slot)
        elif slot == "phone":
            value = w.slots["new_phone"] if a == "enter-details" else c.phone
        elif slot == "order_id":
            value = order.id if order else None
        elif slot == "code":
            value = w.slots["code_new"] if a == "promo-code" else w.slots["code"]
        elif slot == "full_address":
            value = c.address if a == "enter-details" else w.slots["new_address"]
        elif slot == "amount":
            value = round(order.fee if a == "update-order" else w.refund_amount, 2)
        elif slot == "value":
            value = {"address": w.slots["new_address"], "payment method": w.slots["payment_method"]}.get(
                extra.get("field"), "cancelled")
        elif slot == "status":
            value = sub.get("status", "active") if a == "subscription-status" else order.status
        else:
            value = {
                "reason": getattr(w, "recorded_reason", None), "product": w.slots["product"],
                "details": getattr(w, "details", None), "refund_method": w.slots["refund_method"],
                "change": extra.get("change"), "field": extra.get("field"), "link": w.slots["link"],
                "team": w.slots["team"], "plan": sub.get("plan"), "due_date": sub.get("due_date"),
                "amount_due": sub.get("amount"), "membership_level": c.tier, "discount": w.slots["discount"],
                "check": extra.get("check"), "result": w.oracle_result, "topic": w.slots["topic"],
            }[slot]
        out[slot] = value
    return out


def _done_key(w: ConversationWriter, step: Step) -> str:
    extra, a = w.reason.extra, step.action
    key = {"update-account": f"update-account:{extra.get('field')}", "update-order": f"update-order:{extra.get('change')}",
           "ask-the-oracle": f"ask-the-oracle:{extra.get('check')}",
           "shipping-status": f"shipping-status:{w.order.status if w.order else 'processing'}"}.get(a, a)
    return key if key in w.texts["done"] else a


def take_step(w: ConversationWriter, step: Step, index: int) -> None:
    rng, a, texts = w.rng, step.action, w.texts
    if a in ("log-out-in", "try-again"):
        w.agent_says(w.pool(a, "instructions", a))
        w.agent_action(a, {})
        worked = w.plan.outcome == "resolved"
        reply = "customer_done" if a == "log-out-in" else ("customer_worked" if worked else "customer_failed")
        w.customer_says(w.customer_text(rng.choice(texts["instructions"][reply]), 0.2))
        return
    asked = ask(w, step)
    if not asked and a in LOOKUPS and rng.random() < 0.35:
        w.agent_says(w.pool("hold", "holding"))
    w.oracle_result = "no" if w.plan.reason in ("promo_code_invalid", "unknown_charge") else "yes"
    if a == "search-faq":
        w.slots["faq_answer"] = fill(rng.choice(texts["faq_answers"][w.slots["topic"]]), w.slots)
    if a == "offer-refund":
        w.slots["amount"] = f"{w.refund_amount:.2f}"
    w.agent_action(a, _values(w, step))
    if a not in OPTIONAL_DONE or rng.random() < 0.7:
        w.agent_says(w.pool(f"done:{_done_key(w, step)}", "done", _done_key(w, step)))
    if w.plan.emerging and a == "record-reason" and w.t >= w.emerging_start + timedelta(days=4) and rng.random() < 0.7:
        w.agent_says(w.pool("emerging", "catalogue", "emerging_issue", "agent_notes"))
        if rng.random() < 0.5:  # the defect guideline: tell product quality even when the case itself is solved
            w.agent_action("notify-team", {"team": "product quality team"})
    if a in SENSITIVE_ACTIONS and rng.random() < 0.3:
        w.customer_says(w.customer_text(rng.choice(texts["customer_ack"]), 0.1))


def failed_verification(w: ConversationWriter, step: Step) -> None:
    """The customer's details do not match the account: the agent must stop there."""
    w.slots["fields"] = human_list([w.texts["fields"].get(v, v) for v in step.values])
    w.agent_says(w.pool("verify-identity", "ask", "verify-identity"))
    wrong = {"email": w.customer.email.replace("@", "1@", 1), "zip_code": f"{(int(w.customer.zip_code) + 37) % 100000:05d}",
             "account_id": "ACC-" + str(int(w.customer.account_id[4:]) + 11), "phone": w.customer.phone[:-2] + "00"}
    given = {v: wrong.get(v, getattr(w.customer, v, "")) for v in step.values}
    w.customer_says(", ".join(str(x) for x in given.values()))
    w.agent_action("verify-identity", given)
    w.agent_says(w.pool("block:verify", "blockers", "verify"))
    w.blocked = True


def _close_resolved(w: ConversationWriter, _next: Step | None) -> None:
    rng, closing = w.rng, w.texts["closing"]
    if w.agent.care > rng.random():
        w.agent_says(w.pool("check", "closing", "check"))
        if rng.random() < 0.92:
            upset = w.plan.mood in ("angry", "frustrated")
            tone = ("grudging" if upset and rng.random() < 0.15 else "relieved" if upset and rng.random() < 0.6
                    else "happy" if rng.random() < 0.7 else "neutral")
            w.customer_says(roughen(rng.choice(closing["resolved_customer"][tone]), rng))
            w.mood = {"neutral": "neutral", "grudging": "frustrated"}.get(tone, "friendly")
        else:  # solved, but the customer left without a word: closed the way a silent chat is
            w.t += timedelta(seconds=rng.uniform(120, 300))
            if rng.random() < 0.5:
                w.agent_says(w.pool("abandon", "closing", "abandon_close"))
                return
    elif rng.random() < 0.6:
        w.customer_says(roughen(rng.choice(["thanks", "thank you!", "great, thanks"]), rng))
        w.mood = "friendly"
    w.agent_says(w.pool("bye", "closing", "resolved_bye"))


def _close_escalated(w: ConversationWriter, _next: Step | None) -> None:
    rng, closing = w.rng, w.texts["closing"]
    demanded = (w.mood == "angry" and rng.random() < 0.6) or rng.random() < 0.12
    if demanded:
        w.customer_says(w.customer_text(rng.choice(closing["escalation_demand"]), 0.6))
    team = "manager" if demanded else ("product quality team" if w.plan.emerging else w.reason.escalation_team)
    w.slots["team"] = "duty manager" if team == "manager" else team
    w.slots["sla"] = "4 hours" if team == "manager" else "1 business day"
    w.agent_says(w.pool("esc-offer", "closing", "escalation_offer"))
    if rng.random() < 0.92:  # now and then the hand-over is promised in words but never logged
        w.agent_action("notify-team", {"team": team})
    w.agent_says(w.pool("esc-promise", "closing", "escalation_promise"))
    if rng.random() < 0.8:
        w.customer_says(w.customer_text(rng.choice(closing["escalation_customer"]), 0.3))
    if rng.random() < 0.7:
        w.agent_says(w.pool("esc-bye", "closing", "escalation_bye"))


def _close_abandoned(w: ConversationWriter, next_step: Step | None) -> None:
    if next_step is not None:
        ask(w, next_step, answer=False)
    # Not every agent checks in or says goodbye before a silent chat times out.
    if w.rng.random() < 0.75:
        w.t += timedelta(seconds=w.rng.uniform(120, 240))
        w.agent_says(w.pool("ping", "closing", "abandon_ping"))
    if w.rng.random() < 0.85:
        w.t += timedelta(seconds=w.rng.uniform(300, 480))
        w.agent_says(w.pool("abandon", "closing", "abandon_close"))


def _close_unresolved(w: ConversationWriter, _next: Step | None) -> None:
    rng, closing = w.rng, w.texts["closing"]
    if not getattr(w, "blocked", False):
        key = w.plan.reason if w.plan.reason in w.texts["blockers"] else "default"
        w.agent_says(w.pool(f"block:{key}", "blockers", key))
    if rng.random() < 0.25:  # a customer who takes the no calmly reads much like a resolved chat
        w.agent_says(w.pool("unres-alt", "closing", "unresolved_alternative"))
        w.customer_says(roughen(rng.choice(closing["unresolved_accept"]), rng))
        w.agent_says(w.pool("check", "closing", "check"))
        if rng.random() < 0.7:
            w.customer_says(roughen(rng.choice(closing["resolved_customer"]["neutral"]), rng))
        w.mood = "neutral"
    else:
        w.mood = WORSE[w.mood]
        if rng.random() < 0.85:
            w.customer_says(with_mood(roughen(rng.choice(closing["unresolved_customer"]), rng), w.mood,
                                      w.texts["mood"], rng, 0.5))
    polite = rng.random() < 0.3  # some agents close every chat with the same friendly goodbye
    w.agent_says(w.pool("bye", "closing", "resolved_bye") if polite else w.pool("unres-bye", "closing", "unresolved_bye"))


ENDINGS = {"resolved": _close_resolved, "escalated": _close_escalated, "abandoned": _close_abandoned,
           "unresolved": _close_unresolved}
