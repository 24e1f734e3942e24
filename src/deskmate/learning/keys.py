"""What a suggestion *is*, independent of the model version and the conversation that showed it.

Assist's suggestion ids ("kb:<article>:<conv>:<seq>", "reply:<entry>:<conv>:<seq>",
"nba:<action>:<conv>:<seq>") name the thing shown at one moment. Learning counts evidence per
stable key: the article id for knowledge, a hash of the reply's template (bank entry numbers
change with every rebuild), and for a next action the transition "<last action>><action>", since
whether "offer refund" is right depends on what was already done.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Sequence

START = "^"  # the "last action" before any action was taken


@dataclass(frozen=True)
class SuggestionRef:
    kind: str
    item: str  # article id, bank entry, action name, alert kind, intent label
    conversation_id: int | None
    seq: int | None


def parse_suggestion_id(suggestion_id: str) -> SuggestionRef | None:
    """Split an assist suggestion id; None when it does not have the documented shape."""
    kind, _, rest = suggestion_id.partition(":")
    parts = rest.rsplit(":", 2)
    if not kind or len(parts) != 3:
        return None
    item, conv, seq = parts
    try:
        return SuggestionRef(kind, item, int(conv), int(seq))
    except ValueError:
        return None


def reply_key(template: str) -> str:
    """Replies that differ only in case and punctuation are the same reply."""
    normal = re.sub(r"[^a-z0-9\[\]_ ]+", "", template.lower())
    normal = re.sub(r"\s+", " ", normal).strip()
    return "t" + hashlib.blake2b(normal.encode(), digest_size=8).hexdigest()


def action_key(done: Sequence[str], action: str) -> str:
    return f"{done[-1] if done else START}>{action}"


def candidate_key(kind: str, candidate: Any, context: dict | None = None) -> str | None:
    """The stable key of a live candidate (assist's hit / ranked reply / (action, probability) pair)."""
    if kind == "kb":
        article = _field(candidate, "article_id", 0)
        return None if article is None else str(article)
    if kind == "reply":
        template = _field(candidate, "template", 0)
        return reply_key(template) if template else None
    if kind == "nba":
        action = _field(candidate, "action", 0) or _field(candidate, "label", 0)
        return action_key(list((context or {}).get("actions") or ()), action) if action else None
    return None


def candidate_score(candidate: Any) -> float:
    for name in ("score", "probability", "confidence"):
        value = _field(candidate, name, None)
        if value is not None:
            return float(value)
    if isinstance(candidate, (tuple, list)) and len(candidate) > 1:
        return float(candidate[1])
    return 0.0


def _field(candidate: Any, name: str, position: int | None):
    if isinstance(candidate, dict):
        return candidate.get(name)
    if hasattr(candidate, name):
        return getattr(candidate, name)
    if position is not None and isinstance(candidate, (tuple, list)) and len(candidate) > position:
        return candidate[position]
    return None
