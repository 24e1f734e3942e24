"""Accuracy against the knowledge article used: the timeframes and percentages an agent states must match it.

Policy facts customers act on are numbers with units ("refunds take 5-7 business days",
"returns within 30 days", "a 10% discount"). We check an agent's stated figure only when the
article states a figure with the same unit in a sentence about the same thing (shared
content words), so amounts from the customer's own order are never compared with policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from deskmate.outcomes import language as lang
from deskmate.outcomes.context import ScoringContext, Verdict, evidence

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "twelve": 12, "fourteen": 14, "thirty": 30, "sixty": 60, "ninety": 90}
_NUM = r"(\d+(?:\.\d+)?|" + "|".join(_NUMBER_WORDS) + r")"
CLAIM = re.compile(
    _NUM + r"(?:\s*(?:-|to|–)\s*" + _NUM + r")?\s*(%|percent\b|(?:business |working |calendar )?(?:day|hour|week|month|year)s?\b)",
    re.IGNORECASE,
)
CONTEXT_CHARS = 50  # the words within this distance of a figure say what it measures
MIN_SHARED = 2  # one shared word ("shipping") is coincidence; two ("refunds ... appear") is the same fact
STOP = frozenset(["the", "and", "for", "you", "your", "our", "are", "was", "were", "will", "with", "this", "that", "have", "has", "from", "can", "not", "but", "they", "them", "their", "there", "what", "when", "which", "who", "how", "about", "into", "than", "then", "also", "just", "only", "been", "being", "its", "it's", "i'm", "we're", "you're", "more", "most", "some", "any", "all", "each", "per", "day", "days", "hour", "hours", "week", "weeks", "month", "months", "year", "years", "business", "working", "within", "after", "before"])


@dataclass(frozen=True)
class Claim:
    low: float
    high: float
    unit: str
    sentence: str
    context: frozenset[str]  # word stems right around the figure: what the figure is about


def _value(token: str) -> float:
    token = token.lower()
    return float(_NUMBER_WORDS[token]) if token in _NUMBER_WORDS else float(token)


def _unit(raw: str) -> str:
    raw = raw.lower().strip()
    if raw in ("%", "percent"):
        return "%"
    raw = raw.rstrip("s")
    return raw.replace("working ", "business ").replace("calendar ", "")


@lru_cache(maxsize=4096)  # article bodies are read for every conversation that used them
def claims(text: str) -> tuple[Claim, ...]:
    out = []
    for sentence in lang.sentences(text):
        for m in CLAIM.finditer(sentence):
            low = _value(m.group(1))
            high = _value(m.group(2)) if m.group(2) else low
            around = sentence[max(0, m.start() - CONTEXT_CHARS): m.end() + CONTEXT_CHARS // 2]
            out.append(Claim(low, high, _unit(m.group(3)), sentence, _topic(around)))
    return tuple(out)


@lru_cache(maxsize=16384)
def _topic(text: str) -> frozenset[str]:
    # Five-letter stems: "returned" and "returns" are the same topic, a cheap stemmer is enough here.
    return frozenset({w[:5] for w in lang.words(text) if len(w) > 3 and w not in STOP and not w.isdigit()})


def knowledge_accuracy(ctx: ScoringContext) -> Verdict:
    if not ctx.articles:
        return "na", "no knowledge article linked to this conversation", []
    facts = [c for _, body in ctx.articles for c in claims(body)]
    checked, wrong = [], []
    for turn in ctx.transcript.agent_turns:
        for claim in claims(turn.text):
            related = [f for f in facts if f.unit == claim.unit and len(claim.context & f.context) >= MIN_SHARED]
            if not related:
                continue
            if any(f.low == claim.low and f.high == claim.high for f in related):
                checked.append(turn)
            else:
                best = max(related, key=lambda f: len(claim.context & f.context))
                wrong.append((turn, f"said {claim.sentence.strip()!r}; the article says {best.sentence.strip()!r}"))
    if wrong:
        return "fail", "; ".join(note for _, note in wrong[:2]), [evidence(t) for t, _ in wrong[:3]]
    if checked:
        return "pass", f"{len(checked)} stated figure(s) match the article", [evidence(checked[0])]
    return "na", "the agent stated no figure the article covers", []
