"""Post-contact summary: the after-call work, done from the transcript.

Structured fields (reason, what the customer needed, actions with their values, resolution,
follow-ups promised) plus a short readable text. The text is extractive by default: the
customer's own words and the agent's own promises, so it never states something nobody
said. A generation backend, when configured, only rephrases these fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from deskmate.outcomes import language as lang
from deskmate.outcomes.transcript import Transcript

GREETING = re.compile(r"^\s*(?:hi|hello|hey|good (?:morning|afternoon|evening)|thanks?|thank you)\b[\s,!.]*", re.IGNORECASE)
REQUEST = lang._rx(
    r"i (?:want|need|would like|'d like|wanted)", r"can (?:you|i)", r"could you", r"how (?:do|can) i", r"i(?:'m| am) trying",
    r"i (?:can't|cannot|didn't|haven't|never)", r"my (?:order|account|package|parcel|refund|card|subscription|payment)",
    r"(?:is|was|has) (?:been )?(?:charged|wrong|broken|missing|late|damaged)", r"why (?:is|was|did|has)",
)
MAX_TEXT = 600


def customer_need(t: Transcript) -> dict | None:
    """The customer's sentence that best states the request, from their first three messages."""
    best, best_score = None, 0.0
    for turn in t.customer_turns[:3]:
        for sentence in lang.sentences(turn.text):
            core = GREETING.sub("", sentence).strip()
            content = [w for w in lang.words(core) if len(w) > 3]
            if not content:
                continue
            score = len(content) + 4 * lang.any_match(REQUEST, core) - 0.5 * turn.seq
            if score > best_score:
                best, best_score = {"seq": turn.seq, "text": core[:300]}, score
    return best


def follow_ups(t: Transcript) -> list[dict]:
    promised, seen = [], set()
    for turn in t.agent_turns:
        for sentence in lang.sentences(turn.text):
            if lang.any_match(lang.FOLLOW_UP, sentence) and sentence.lower() not in seen:
                seen.add(sentence.lower())
                promised.append({"seq": turn.seq, "text": sentence[:300]})
    return promised[-3:]


def _values(values: dict) -> str:
    shown = [f"{k}={v}" for k, v in (values or {}).items() if v not in (None, "", [], {})]
    return f" ({', '.join(shown)})" if shown else ""


def post_contact_summary(t: Transcript, *, reason: str | None, outcome: str, probability: float,
                         reason_source: str = "label") -> dict:
    return {
        "reason": reason,
        "reason_source": reason_source if reason else None,
        "customer_need": customer_need(t),
        "actions": [{"seq": a.seq, "action": a.action, "values": a.values} for a in t.action_turns],
        "resolution": {"outcome": outcome, "probability": round(probability, 3)},
        "follow_ups": follow_ups(t),
    }


def extractive_text(summary: dict) -> str:
    parts = []
    reason = (summary.get("reason") or "unknown reason").replace("_", " ")
    need = summary.get("customer_need")
    parts.append(f"Contact about {reason}" + (f': "{need["text"]}".' if need else "."))
    actions = summary.get("actions") or []
    if actions:
        parts.append("Agent: " + ", ".join(f"{a['action']}{_values(a['values'])}" for a in actions[:6])
                     + (f" and {len(actions) - 6} more" if len(actions) > 6 else "") + ".")
    else:
        parts.append("No actions taken.")
    res = summary["resolution"]
    parts.append(f"Outcome: {res['outcome']} ({res['probability']:.0%}).")
    for f in summary.get("follow_ups") or []:
        parts.append(f'Promised: "{f["text"]}"')
    text = " ".join(parts)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


NOTE_PROMPT = ("Rewrite this post-contact note for a support agent as two or three plain sentences. Keep every fact, "
               "number and placeholder in square brackets exactly; add nothing.")


def generated_text(summary: dict, generate: Callable[[str, str], str]) -> str | None:
    """The generation backend's rephrasing of the extractive note (None when it fails: the note stands)."""
    try:
        text = (generate(NOTE_PROMPT, extractive_text(summary)) or "").strip()
    except Exception:  # noqa: BLE001 - the backend is optional; a note from the transcript beats no note
        return None
    return text[:MAX_TEXT] or None
