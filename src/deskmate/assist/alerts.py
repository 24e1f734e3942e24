"""Alerts for the agent and the supervisor floor, each with the reason it fired.

- sentiment falling: the customer's sentiment trajectory dropped (deskmate.nlp.sentiment);
- repeating: the customer said again what they already said (cosine of message embeddings);
- escalation risk: `escalation.EscalationModel` over what the customer said so far, with a
  threshold chosen on held-out history for precision;
- policy step skipped: an action of the procedure taken before an earlier required step;
- long silence: the customer waited longer than the tenant's `silence_seconds` (default 120).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

import numpy as np

REPEAT_COSINE = 0.87
REPEAT_MIN_WORDS = 4
DEFAULT_SILENCE_SECONDS = 120
ESCALATION_WORDS = re.compile(
    r"\b(manager|supervisor|escalat\w*|complain\w*|lawyer|legal action|unacceptable|ridiculous|chargeback|dispute|"
    r"cancel (?:my|the) (?:account|order|membership|subscription)|never (?:again|shop)|worst|useless|fed up)\b",
    re.I,
)
FEATURES = ("last_sentiment", "lowest_sentiment", "shift", "customer_messages", "repeats", "escalation_words",
            "falling", "agent_messages")


@dataclass
class RiskSignals:
    """What the escalation model reads; kept up to date incrementally in the live state."""

    last_sentiment: float = 0.0
    lowest_sentiment: float = 0.0
    shift: float = 0.0
    customer_messages: int = 0
    repeats: int = 0
    escalation_words: int = 0
    falling: bool = False
    agent_messages: int = 0

    def vector(self) -> np.ndarray:
        return np.array([self.last_sentiment, self.lowest_sentiment, self.shift, math.log1p(self.customer_messages),
                         min(self.repeats, 3), min(self.escalation_words, 3), float(self.falling),
                         math.log1p(self.agent_messages)], dtype=np.float64)


def repeated_message(vector: np.ndarray, text: str, earlier: list[np.ndarray], earlier_texts: list[str]) -> tuple[int, float] | None:
    """(index of the earlier message, cosine) when this customer message says an earlier one again."""
    if len(text.split()) < REPEAT_MIN_WORDS or not earlier:
        return None
    sims = np.stack(earlier) @ vector
    i = int(np.argmax(sims))
    if sims[i] >= REPEAT_COSINE and len(earlier_texts[i].split()) >= REPEAT_MIN_WORDS:
        return i, float(sims[i])
    return None


def silence_seconds(previous: datetime | None, current: datetime | None) -> float | None:
    if previous is None or current is None:
        return None
    return (current - previous).total_seconds()


def describe_wait(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


# ---- evaluation on the live state ----------------------------------------------------------

VERIFICATION_ACTIONS = ("verify-identity", "validate-purchase")
DEFAULT_POLICY_RULES = (
    # Money or account changes need the customer verified first (when the workspace's procedures verify at all).
    {"when": r"\b(offer-refund|update-order|update-account|make-password|send-link|refund(?:ed|ing)?|reimburse\w*|credit(?:ed)?)\b",
     "requires_any": list(VERIFICATION_ACTIONS), "name": "verify identity before moving money or changing the account"},
)
REPEAT_SHOWN_FOR = 3  # messages a "repeating" alert stays on screen


def policy_rules(tenant_settings: dict) -> list[tuple[re.Pattern, list[str], str, bool]]:
    """(pattern, required actions, name, contextual); the built-in rule is contextual: it applies only
    while the current procedure itself contains a verification step, so flows without one stay quiet."""
    configured = tenant_settings.get("policy_rules")
    rules = []
    for rule in configured or DEFAULT_POLICY_RULES:
        required = list(rule.get("requires_any") or [])
        if rule.get("when") and required:
            try:
                pattern = re.compile(rule["when"], re.I)
            except re.error as exc:
                from deskmate.errors import InvalidInput

                raise InvalidInput(f"policy_rules: invalid regex {rule['when']!r}: {exc}") from None
            rules.append((pattern, required, rule.get("name") or f"requires {' or '.join(required)}", not configured))
    return rules


def evaluate(state, turn, *, alert_cls, escalation, skipped_steps: list[str],
             procedure_name: str | None, procedure_actions: list[str], rules: list, silence_limit: float) -> list:
    """The alerts active after this turn; an alert keeps the id and seq of its first firing."""
    conv, seq = state.conversation_id, turn.seq if turn is not None else state.last_seq
    active: dict[str, tuple[str, str, str]] = {}  # key -> (kind, severity, reason)
    signals = state.signals
    if signals.falling and signals.last_sentiment < 0 and len(state.sentiments) >= 2:
        active["sentiment_falling"] = ("sentiment_falling", "warning",
                                       f"customer sentiment fell from {state.sentiments[0]:+.2f} to "
                                       f"{signals.last_sentiment:+.2f} over {len(state.sentiments)} messages")
    for at_seq, (earlier, cosine) in state.repeat_at.items():
        if seq - at_seq <= REPEAT_SHOWN_FOR:
            active[f"repeating:{at_seq}"] = ("repeating", "warning",
                                             f"the customer repeated message {earlier} (similarity {cosine:.2f}): "
                                             "they may feel unheard")
    if escalation is not None and state.risk is not None and state.risk >= escalation.threshold_:
        why = ", ".join(state.risk_why) or "the conversation so far"
        active["escalation_risk"] = ("escalation_risk", "critical" if state.risk >= 0.8 else "warning",
                                     f"escalation risk {state.risk:.0%} (alert at {escalation.threshold_:.0%}), "
                                     f"driven by {why}")
    for step in skipped_steps:
        active[f"policy:{step}"] = ("policy_step_skipped", "critical",
                                    f"'{step}' was skipped: a later step of '{procedure_name}' was taken before it")
    done = set(state.actions)
    for pattern, required, name, contextual in rules:
        key = f"rule:{name}"
        if contextual and not any(a in procedure_actions for a in required):
            continue
        if any(a in done for a in required):
            continue  # verified since: the alert leaves the screen (the feedback log keeps it)
        if key in state.alerts_fired:
            active[key] = None  # still unverified: keep showing the first firing
        elif turn is not None and turn.role == "agent" and not (turn.kind == "action" and turn.action in required):
            said = turn.action if turn.kind == "action" else turn.text
            if said and pattern.search(said):
                what = f"action {turn.action}" if turn.kind == "action" else "the agent offered a refund or change"
                active[key] = ("policy_step_skipped", "critical", f"{what} before {' or '.join(required)} ({name})")
    waited = _waited(state, turn)
    if waited is not None and waited >= silence_limit:
        active["long_silence"] = ("long_silence", "warning", f"the customer waited {describe_wait(waited)} for a reply")
    out = []
    for key, spec in active.items():
        fired = state.alerts_fired.get(key)
        if spec is None:
            if fired is not None:
                out.append(fired)
            continue
        kind, severity, reason = spec
        if fired is None or fired.kind != kind:
            fired = alert_cls(id=f"alert:{kind}:{conv}:{seq}", kind=kind, severity=severity, reason=reason, at_seq=seq)
        else:
            fired = fired.model_copy(update={"severity": severity, "reason": reason})
        state.alerts_fired[key] = fired
        out.append(fired)
    for key in [k for k in state.alerts_fired if k not in active]:
        state.alerts_fired.pop(key)
    return out


def _waited(state, turn) -> float | None:
    """Seconds the customer's last message waited for this agent turn (the sweep handles waits in progress)."""
    turns = state.turns
    if turn is not None and turn.role == "agent" and len(turns) >= 2 and turns[-2].role == "customer":
        return silence_seconds(turns[-2].at, turn.at)
    return None
