"""How much each past conversation teaches live assist: its probability of having gone well.

Outcome unknown is the normal case (history exported without labels), so no model may learn
only from conversations marked `resolved`: that teaches nothing from unlabelled history. Every
conversation is kept and weighted instead:

- a recorded outcome decides: resolved 1.0, escalated / unresolved / abandoned `FAILED` (small,
  not zero: what the agent did before things went wrong is still mostly how the desk works);
- else the outcome model's P(resolved), when the outcomes domain has scored the conversation
  (a re-prepare reads the scores of the previous one; a reopened conversation counts as failed);
- else the explicit signals a desk exports: the customer's last words (thanks, "that works",
  versus "still not working", "forget it"), around the prior `UNKNOWN`.

One bulk query reads the scores; nothing is asked per conversation.
"""

from __future__ import annotations

import numpy as np

RESOLVED, FAILED, UNKNOWN = 1.0, 0.1, 0.7
CLOSED_WELL, CLOSED_BADLY = 0.9, 0.3
LAST_WORDS = 2  # customer messages read for the closing signal


def closing_signal(customer_texts: list[str]) -> float:
    """P(went well) from the customer's last words alone: CLOSED_WELL, CLOSED_BADLY or UNKNOWN."""
    try:
        from deskmate.outcomes.language import DISSATISFIED, SATISFIED, THANKS, any_match
    except ImportError:  # pragma: no cover - the outcomes domain ships them
        return UNKNOWN
    said = " ".join(customer_texts[-LAST_WORDS:])
    if any_match(DISSATISFIED, said):
        return CLOSED_BADLY
    if any_match(THANKS, said) or any_match(SATISFIED, said):
        return CLOSED_WELL
    return UNKNOWN


def stored_scores(session, tenant_id: int, ids: list[int]) -> dict[int, float]:
    """conversation id -> P(resolved) from the outcomes domain's last scoring (empty when absent)."""
    if session is None or not ids:
        return {}
    try:
        from sqlalchemy import select

        from deskmate.outcomes.models import ConversationScore
    except ImportError:  # pragma: no cover - the outcomes domain ships it
        return {}
    wanted = set(ids)
    out: dict[int, float] = {}
    rows = session.execute(select(ConversationScore.conversation_id, ConversationScore.outcome_probabilities,
                                  ConversationScore.reopened).where(ConversationScore.tenant_id == tenant_id))
    for conv_id, probs, reopened in rows:
        if conv_id in wanted and isinstance(probs, dict) and "resolved" in probs:
            out[conv_id] = FAILED if reopened else float(probs["resolved"])
    return out


def outcome_weights(conversations, scores: dict[int, float] | None = None) -> np.ndarray:
    """One weight in [FAILED, 1] per conversation, in order (see the module docstring)."""
    scores = scores or {}
    out = np.empty(len(conversations), dtype=np.float64)
    for i, conv in enumerate(conversations):
        if conv.outcome == "resolved":
            out[i] = RESOLVED
        elif conv.outcome:
            out[i] = FAILED
        elif conv.id in scores:
            out[i] = min(RESOLVED, max(FAILED, scores[conv.id]))
        else:
            out[i] = closing_signal([t.text for t in conv.turns if t.role == "customer" and t.kind == "text"])
    return out
