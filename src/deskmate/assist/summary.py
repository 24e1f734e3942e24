"""The summary so far, for a handover or a supervisor's glance: built from the live state, no model.

It names who, why (the intent, or the customer's own words while the intent is unsure), what the
agent has done, what is next, how the customer feels, and what needs attention. The optional
generation backend can rewrite it into prose; this one is always there and costs microseconds.
"""

from __future__ import annotations

from deskmate.assist.state import ConversationState

INFORMATIVE_WORDS = 5


def _quote(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _mood(score: float) -> str:
    return "negative" if score <= -0.25 else "positive" if score >= 0.25 else "neutral"


def summarize(state: ConversationState, *, intent_label: str | None, intent_display: str,
              next_action: str | None, alert_reasons: list[str]) -> str:
    who = state.customer.name or "The customer"
    if state.customer.tier:
        who += f" ({state.customer.tier})"
    parts = []
    asks = [t for t in state.customer_texts if len(t.split()) >= INFORMATIVE_WORDS] or state.customer_texts
    if intent_label:
        parts.append(f"{who} contacted us about {intent_display}.")
    else:
        parts.append(f"{who} contacted us; the reason is not clear yet.")
    if asks:
        parts.append(f'They said: "{_quote(asks[0])}"')
        if len(asks) > 1 and asks[-1] != asks[0]:
            parts.append(f'Latest: "{_quote(asks[-1], 100)}"')
    orders = state.entities.get("order_id")
    if orders:
        parts.append(f"Order mentioned: {', '.join(orders[-2:])}.")
    if state.actions:
        parts.append("Done so far: " + ", ".join(a.replace("-", " ") for a in state.actions) + ".")
    if next_action:
        parts.append(f"Next: {next_action.replace('-', ' ')}.")
    if state.sentiments:
        start, end = _mood(state.sentiments[0]), _mood(state.sentiments[-1])
        parts.append(f"Sentiment {start}" + (f" → {end}." if end != start else "."))
    if alert_reasons:
        parts.append("Attention: " + "; ".join(alert_reasons[:2]) + ".")
    return " ".join(parts)
