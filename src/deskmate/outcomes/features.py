"""Engineered signals of how a conversation ended: closing language, actions done, last words, who spoke last, silence.

The same numbers feed the trained resolution model and the rule-based fallback, so a
workspace without labelled history still gets a sensible answer from the same evidence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from deskmate.conversations.transcript import procedure_progress
from deskmate.outcomes import language as lang
from deskmate.outcomes.transcript import Transcript, repeated_customer_turns

# Actions that hand the case to someone else: a resolution elsewhere, not here.
ESCALATION_ACTIONS = frozenset({"notify-team", "escalate", "transfer", "escalate-to-supervisor", "create-ticket"})

FEATURE_NAMES = (
    "log_turns", "log_customer_turns", "log_agent_turns", "log_actions",
    "last_text_customer", "last_turn_action", "customer_after_agent",
    "last_customer_thanks", "last_customer_satisfied", "last_customer_dissatisfied", "last_customer_chasing",
    "customer_thanks_late", "customer_dissatisfied_any", "customer_chasing_any",
    "agent_closing_offer", "agent_farewell", "agent_escalation_language", "escalation_action", "transfer",
    "has_procedure", "procedure_done_share", "procedure_complete", "procedure_in_order",
    "sentiment_start", "sentiment_end", "sentiment_lowest", "sentiment_shift",
    "log_silence_after_last", "long_silence", "log_max_wait", "log_duration", "repeats",
    "agent_follow_up", "last_agent_question", "agent_ping", "agent_closes_for_silence", "agent_unable",
    "agent_unable_late",
)


def has(pattern, lowered: str) -> float:
    return 1.0 if pattern.search(lowered) else 0.0


def _log(x: float) -> float:
    return math.log1p(max(0.0, x))


def resolution_features(t: Transcript, required: Sequence[str] | None = None) -> np.ndarray:
    cust, agent = t.customer_turns, t.agent_turns
    # Lower-cased once here: the language patterns match lower-cased text.
    last_c = cust[-1].text.lower() if cust else ""
    late_c = " ".join(x.text for x in cust[-2:]).lower()
    late_a = " ".join(x.text for x in agent[-2:]).lower()
    all_a = " ".join(x.text for x in agent).lower()
    all_c = " ".join(x.text for x in cust).lower()
    others = " ".join(x.text for x in t.turns if x.role in ("agent", "system")).lower()
    text_turns = t.text_turns
    last_text = text_turns[-1] if text_turns else None
    last_agent_seq = max((x.seq for x in t.turns if x.role == "agent"), default=0)
    customer_after = sum(1 for x in cust if x.seq > last_agent_seq)
    progress = procedure_progress(required or (), t.actions, repeats="first")
    sent = t.customer_sentiment
    silence = t.silence_after_last()
    waits = t.agent_wait_seconds()
    duration = t.handle_seconds or 0.0
    values = (
        _log(len(t.turns)), _log(len(cust)), _log(len(agent)), _log(len(t.action_turns)),
        float(last_text is not None and last_text.role == "customer"),
        float(bool(t.turns) and t.turns[-1].kind == "action"),
        _log(customer_after),
        has(lang.THANKS, last_c), has(lang.SATISFIED, last_c),
        has(lang.DISSATISFIED, last_c), has(lang.CHASING, last_c),
        has(lang.THANKS, late_c), has(lang.DISSATISFIED, all_c),
        has(lang.CHASING, all_c),
        has(lang.CLOSING_OFFER, late_a), has(lang.CLOSING_FAREWELL, late_a),
        has(lang.ESCALATION, all_a),
        float(any(a in ESCALATION_ACTIONS for a in t.actions)),
        has(lang.TRANSFER, others),
        float(bool(required)), progress.share, float(progress.complete), float(progress.in_order),
        sent[0] if sent else 0.0, sent[-1] if sent else 0.0, min(sent) if sent else 0.0,
        (sent[-1] - sent[0]) if sent else 0.0,
        _log(silence / 60.0), float(silence >= 600), _log(max(waits, default=0.0) / 60.0), _log(duration / 60.0),
        float(len(repeated_customer_turns(cust))),
        has(lang.FOLLOW_UP, late_a),
        float(bool(agent) and agent[-1].text.rstrip().endswith("?") and (last_text is None or last_text.role == "agent")),
        has(lang.AGENT_PING, late_a), has(lang.CLOSE_FOR_SILENCE, late_a),
        has(lang.AGENT_UNABLE, all_a), has(lang.AGENT_UNABLE, late_a),
    )
    return np.asarray(values, dtype=np.float64)


def closing_text(t: Transcript) -> str:
    """The end of the conversation as words for the text model; roles are marked so 'thanks' from each side differs."""
    cust = " ".join(x.text for x in t.customer_turns[-2:])
    agent = " ".join(x.text for x in t.agent_turns[-2:])
    tail = t.turns[-3:]
    acts = " ".join(f"act_{x.action.replace('-', '_')}" for x in tail if x.kind == "action" and x.action)
    last = t.text_turns[-1].role if t.text_turns else "none"
    return f"{cust} || {agent} || {acts} lastspeaker_{last}".lower()
