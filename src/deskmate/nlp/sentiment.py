"""Per-message sentiment and its trajectory over a conversation.

A rule-based scorer over a support-chat lexicon (`sentiment_lexicon`) rather
than a learned model: it runs on every live message, costs tens of
microseconds, needs no model file, and handles the phenomena that matter in
support (frustration phrases such as "still waiting", sarcasm, shouting,
repeated punctuation, negation) explicitly, where a general sentiment model
reads "great, just great" as praise. Accuracy on the authored support set is
in docs/bench/nlp-text.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from deskmate.nlp.sentiment_lexicon import (
    EMOTICONS,
    INTENSIFIERS,
    NEGATIONS,
    PHRASES,
    SARCASM_OPENERS,
    WORDS,
)

# A score beyond this (in [-1, 1]) is no longer neutral; tuned on tests/data/sentiment_dev.csv.
NEUTRAL_BAND = 0.25
# A conversation whose sentiment drops by more than this from first to last message is "falling".
FALLING_SHIFT = 0.25

def _first_chars(pattern: str) -> set[str] | None:
    """Characters a phrase can start with (None: unknown), so each token is only
    tried against the few phrases that could begin there."""
    try:
        from re import (  # CPython 3.11+; without it every phrase is tried
            _constants as c,
        )
        from re import _parser as parser

        tree = parser.parse(pattern)
    except Exception:
        return None

    def walk(items) -> tuple[set[str] | None, bool]:
        out: set[str] = set()
        for op, av in items:
            if op is c.LITERAL:
                return out | {chr(av)}, False
            if op is c.IN:
                for o, a in av:
                    if o is c.LITERAL:
                        out.add(chr(a))
                    elif o is c.RANGE:
                        out.update(chr(x) for x in range(a[0], a[1] + 1))
                    else:
                        return None, False
                return out, False
            if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
                continue
            if op is c.SUBPATTERN or op in (c.MAX_REPEAT, c.MIN_REPEAT):
                first, nullable = walk(av[-1])
                nullable = nullable or (op is not c.SUBPATTERN and av[0] == 0)
            elif op is c.BRANCH:
                results = [walk(branch) for branch in av[1]]
                if any(r[0] is None for r in results):
                    return None, False
                first = set().union(*(r[0] for r in results))
                nullable = any(r[1] for r in results)
            else:
                return None, False
            if first is None:
                return None, False
            out |= first
            if not nullable:
                return out, False
        return out, True

    first, nullable = walk(list(tree))
    return None if nullable else first


def _phrase_buckets() -> dict[str, tuple[re.Pattern, list[str]]]:
    by_char: dict[str, list[str]] = {}
    anywhere: list[str] = []
    for pattern in PHRASES:
        first = _first_chars(pattern)
        if first is None:
            anywhere.append(pattern)
        for ch in first or ():
            by_char.setdefault(ch, []).append(pattern)
    buckets = {}
    for ch in set(by_char) | set("abcdefghijklmnopqrstuvwxyz0123456789"):
        patterns = by_char.get(ch, []) + anywhere
        if patterns:
            alternation = "|".join(f"(?P<p{i}>{p})" for i, p in enumerate(patterns))
            buckets[ch] = (re.compile(f"(?:{alternation})(?![\\w'])"), patterns)
    return buckets


_PHRASE_BUCKETS = _phrase_buckets()
_EMOTICON_RX = "|".join(re.escape(e) for e in sorted(EMOTICONS, key=len, reverse=True))
_TOKEN = re.compile(
    rf"(?P<emo>{_EMOTICON_RX})|(?P<word>[A-Za-z]+(?:['’-][A-Za-z]+)*)|(?P<num>[0-9]+)|(?P<excl>!+)|(?P<quest>\?+)"
    r"|(?P<stop>\.\.\.|…|[.,;:])"
)
_CONTRAST = frozenset({"but", "however", "although", "though", "yet"})
_CAPS_RUN = re.compile(r"[A-Z]{3}")  # without one, a message cannot be shouted
_TRAILING_NOT = re.compile(r"(?:[,.…]|\.\.\.)\s*not[.!]*\s*$")


@dataclass(frozen=True, slots=True)
class MessageSentiment:
    label: str  # "negative" | "neutral" | "positive"
    score: float  # in [-1, 1]
    cues: tuple[str, ...] = field(default=())  # what moved the score, for explanations in the UI


@dataclass(frozen=True, slots=True)
class SentimentTrajectory:
    start: float
    end: float
    lowest: float
    lowest_index: int | None  # None for an empty conversation
    shift: float  # end - start
    falling: bool


@dataclass(slots=True)
class _Unit:
    position: int  # token index, for "is this the opening word"
    valence: float
    text: str
    after_contrast: bool


def _units(text: str) -> tuple[list[_Unit], bool, list[str]]:
    """Valenced units in order, whether a contrast ("but") occurs, and the cues seen."""
    lowered = text.lower()
    if len(lowered) != len(text):  # rare case-mappings that change length: give up case cues
        text = lowered
    units: list[_Unit] = []
    cues: list[str] = []
    negation_left = 0
    boost = 1.0
    contrast = False
    skip_until = -1
    position = 0
    for m in _TOKEN.finditer(text):
        start = m.start()
        if start < skip_until:
            continue
        bucket = _PHRASE_BUCKETS.get(lowered[start])
        phrase_match = bucket[0].match(lowered, start) if bucket else None
        if phrase_match is not None:
            phrase = phrase_match.group()
            valence = PHRASES[bucket[1][int(phrase_match.lastgroup[1:])]]
            skip_until = phrase_match.end()
            if valence:
                units.append(_Unit(position, valence * boost, phrase, contrast))
                cues.append(phrase)
            position += 1
            boost, negation_left = 1.0, 0
            continue
        kind = m.lastgroup
        if kind == "emo":
            units.append(_Unit(position, EMOTICONS[m.group()], m.group(), contrast))
            position += 1
            continue
        if kind == "num":
            position += 1
            continue
        if kind != "word":
            if kind == "stop":
                negation_left, boost = 0, 1.0
            continue
        raw = m.group()
        word = raw.lower().replace("’", "'")
        position += 1
        if word in _CONTRAST:
            contrast, negation_left, boost = True, 0, 1.0
            continue
        if word in NEGATIONS or word.endswith("n't"):
            negation_left = 3
            continue
        valence = WORDS.get(word, 0.0)
        if not valence:
            if word in INTENSIFIERS:
                boost *= INTENSIFIERS[word]
            elif negation_left:
                negation_left -= 1
            continue
        if raw.isupper() and len(raw) > 1:
            valence *= 1.4
        valence *= boost
        if negation_left:
            # "not happy" is plainly negative; "not bad" is only mildly positive.
            valence = -valence if valence > 0 else -0.5 * valence
            negation_left = 0
        boost = 1.0
        units.append(_Unit(position, valence, word, contrast))
        if abs(valence) >= 1:
            cues.append(raw)
    return units, contrast, cues


def score_message(text: str) -> MessageSentiment:
    """Sentiment of one message: label and score in [-1, 1] (negative is frustrated or unhappy)."""
    if not text or not text.strip():
        return MessageSentiment("neutral", 0.0)
    units, contrast, cues = _units(text)
    if contrast:
        # What follows "but" is what the writer means: "thanks, but it still fails".
        total = sum(u.valence * (1.5 if u.after_contrast else 0.5) for u in units)
    else:
        total = sum(u.valence for u in units)
    if units and units[0].valence > 0 and units[0].position <= 2 and units[0].text.split()[0] in SARCASM_OPENERS:
        rest = total - units[0].valence
        if rest <= -1.0:  # "great, now I'm locked out": the opener is sarcasm
            total = rest - abs(units[0].valence)
            cues.append("sarcasm")
    if _TRAILING_NOT.search(text.lower()):  # "thanks a lot... not"
        total = -abs(total) - 1.5
        cues.append("sarcasm")
    total = _punctuation_and_case(text, total, cues)
    score = max(-1.0, min(1.0, total / math.sqrt(total * total + 4.0)))
    label = "positive" if score >= NEUTRAL_BAND else "negative" if score <= -NEUTRAL_BAND else "neutral"
    return MessageSentiment(label, round(score, 4), tuple(dict.fromkeys(cues))[:6])


def _punctuation_and_case(text: str, total: float, cues: list[str]) -> float:
    if "!!" in text or "?!" in text or "??" in text:
        if "??" in text or "?!" in text:
            # Repeated question marks in support chat are impatience, not curiosity.
            total = total - 1.2 if total <= 0.5 else total * 0.6
            cues.append("??")
        else:
            total = total + 0.6 if total > 0 else total - 0.9
            cues.append("!!")
    elif "!" in text and total:
        total += 0.3 if total > 0 else -0.3
    letters = [c for c in text if c.isalpha()] if _CAPS_RUN.search(text) else ()
    if len(letters) >= 8:
        upper = sum(1 for c in letters if c.isupper())
        if upper / len(letters) >= 0.7:
            total = total * 1.3 if total > 0 else total - 1.5
            cues.append("ALL CAPS")
    return total


def score_messages(texts: Sequence[str]) -> list[MessageSentiment]:
    return [score_message(t) for t in texts]


def trajectory(scores: Sequence[float]) -> SentimentTrajectory:
    """How sentiment moved over a conversation (usually the customer's messages, in order)."""
    if not scores:
        return SentimentTrajectory(0.0, 0.0, 0.0, None, 0.0, False)
    values = [float(s) for s in scores]
    lowest_index = min(range(len(values)), key=values.__getitem__)
    shift = values[-1] - values[0]
    return SentimentTrajectory(
        start=values[0],
        end=values[-1],
        lowest=values[lowest_index],
        lowest_index=lowest_index,
        shift=round(shift, 4),
        falling=shift <= -FALLING_SHIFT,
    )
