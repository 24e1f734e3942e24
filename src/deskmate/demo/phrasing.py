"""How the demo's people write: agents favour their own phrasings, customers type fast and make mistakes.

Agents each prefer a few phrasings per dialogue move (as real agents reuse their own
macros), which is what makes reply suggestion learnable; customers pick uniformly and
their messages get typos, lost capitals and emotional prefixes.
"""

from __future__ import annotations

import hashlib
import random
import re
import string

_END_PUNCTUATION = string.punctuation.replace("}", "") + " "
_PLACEHOLDER = re.compile(r"(\{[a-z_]+\})")
# An agent's n-th favourite phrasing is chosen with weight 1/(n+1)^1.6: mostly their top two.
_PREFERENCE = [1.0 / (n + 1) ** 1.6 for n in range(40)]


class _Strict(dict):
    def __missing__(self, key):
        raise KeyError(f"demo phrase needs {{{key}}}, which this conversation does not define")


def fill(template: str, slots: dict) -> str:
    return template.format_map(_Strict(slots))


def agent_pick(rng: random.Random, pool: list[str], agent_id: str, key: str) -> str:
    """A phrasing from `pool` following this agent's stable order of preference for this move."""
    if len(pool) == 1:
        return pool[0]
    order = sorted(range(len(pool)), key=lambda i: hashlib.sha1(f"{agent_id}|{key}|{i}".encode()).digest())
    weights = _PREFERENCE[: len(pool)]
    return pool[order[rng.choices(range(len(pool)), weights)[0]]]


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.45:  # swapped letters
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    if kind < 0.8:  # dropped letter
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]  # doubled letter


def vary_words(template: str, synonyms: dict, rng: random.Random, rate: float = 0.35) -> str:
    """Swap one word for a synonym now and then, so the same request is not always worded the same way."""
    if rng.random() >= rate:
        return template
    parts = _PLACEHOLDER.split(template)
    spots = [(i, m) for i, part in enumerate(parts) if not _PLACEHOLDER.fullmatch(part)
             for m in re.finditer(r"[A-Za-z]+", part) if m.group() in synonyms]
    if not spots:
        return template
    i, m = rng.choice(spots)
    parts[i] = parts[i][: m.start()] + rng.choice(synonyms[m.group()]) + parts[i][m.end() :]
    return "".join(parts)


def roughen(template: str, rng: random.Random, *, typo_rate: float = 0.12, lower_rate: float = 0.25) -> str:
    """Typos and lower-casing on the literal words of a template; the {slots} stay intact."""
    parts = _PLACEHOLDER.split(template)
    out = []
    typo = rng.random() < typo_rate
    lower = rng.random() < lower_rate
    for part in parts:
        if _PLACEHOLDER.fullmatch(part):
            out.append(part)
            continue
        if typo:
            words = part.split(" ")
            candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
            for i in rng.sample(candidates, min(len(candidates), rng.choice((1, 1, 2)))):
                words[i] = _typo(words[i], rng)
            part = " ".join(words)
            typo = False
        if lower:
            part = part.lower()
        out.append(part)
    text = "".join(out)
    if lower and rng.random() < 0.5 and not text.endswith("}"):
        text = text.rstrip(_END_PUNCTUATION) or text
    return text


def with_mood(text: str, mood: str, moods: dict, rng: random.Random, strength: float = 1.0) -> str:
    """Wrap a customer's message in the words of their current mood (angry, frustrated, neutral, friendly)."""
    spec = moods.get(mood) or {}
    # Greetings and outbursts open a conversation; later turns only carry a trace of the mood.
    prefix_p = 0.6 if strength >= 1 else (0.3 * strength if mood in ("angry", "frustrated") else 0.0)
    if re.match(r"(?i)(hi|hello|hey|good morning)\b", text) and mood == "friendly":
        prefix_p = 0.0  # no "Hi! hi, ..."
    if spec.get("prefix") and rng.random() < prefix_p:
        text = f"{rng.choice(spec['prefix'])} {text}"
    suffix = rng.choice(spec["suffix"]) if spec.get("suffix") and rng.random() < 0.5 * strength else ""
    if suffix:
        text = text + suffix if suffix[0] in "!.:" else f"{text} {suffix}"
    if mood == "angry" and rng.random() < 0.15:
        text = text.upper()
    return text


def human_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def days_ago_text(days: int) -> str:
    if days <= 1:
        return "yesterday"
    if days < 7:
        return f"{days} days ago"
    weeks = round(days / 7)
    return "a week ago" if weeks == 1 else f"{weeks} weeks ago"


def date_text(d) -> str:
    return f"{d.strftime('%A, %B')} {d.day}"
