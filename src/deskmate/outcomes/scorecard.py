"""The quality scorecard: automatic criteria, each pass / fail / not applicable with the message that shows it.

A tenant picks criteria and weights in `tenant.settings["scorecard"]`, e.g.
`[{"criterion": "policy_adherence", "weight": 3}, {"criterion": "closing", "weight": 1}]`;
without it `DEFAULT_SCORECARD` applies. Criteria are plain functions of a `ScoringContext`
registered in `CRITERIA`, so a new one is a function and a line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from deskmate.conversations.transcript import procedure_progress
from deskmate.errors import InvalidInput
from deskmate.outcomes import language as lang
from deskmate.outcomes.accuracy import knowledge_accuracy
from deskmate.outcomes.context import ScoringContext, Verdict, evidence
from deskmate.outcomes.models import CriterionResult
from deskmate.outcomes.transcript import Turn

NEGATIVE = -0.3  # a customer message at or below this sentiment calls for empathy
MAX_SENTENCE_WORDS = 40
MAX_MESSAGE_WORDS = 150
DEFAULT_FORBIDDEN = ("calm down", "that's not my problem", "you should have", "not my job", "whatever", "you people",
                     "like i said", "as i said", "as i already said")


def saying(turns: list[Turn], pattern) -> list[Turn]:
    """The turns that match; one search over all of them first, since most conversations have none."""
    if not turns or not pattern.search("\n".join(t.text for t in turns).lower()):
        return []
    return [t for t in turns if pattern.search(t.text.lower())]


# ---- criteria ----------------------------------------------------------------------------


def policy_adherence(ctx: ScoringContext) -> Verdict:
    """Every action the procedure requires, in its order. A missing step counts when a later one was done, or when
    the conversation ended as resolved without it and without a stated blocker; a customer who left, a blocker
    (outside the return window) or an escalation legitimately stops the procedure part-way."""
    required = list(dict.fromkeys(ctx.required_actions))
    if not required:
        return "na", "no procedure for this reason for contact", []
    t = ctx.transcript
    progress = procedure_progress(required, t.actions, repeats="first")
    # The turn of each required action done: its first occurrence.
    first = {step: t.action_turns[at] for step, at in zip(required, progress.done_at) if at is not None}
    problems: list[tuple[Turn | None, str]] = []
    for j, i in progress.out_of_order():
        action, missing = required[j], required[i]
        how = "skipped" if missing not in first else f"done later (seq {first[missing].seq})"
        problems.append((first[action], f"{action} before {missing} ({how})"))
    done_last = progress.last_done
    tail = required[done_last + 1:]
    # A blocker the agent stated ("outside the return window, I can't refund it") ends the procedure legitimately.
    blocked = saying(t.agent_turns, lang.AGENT_UNABLE)
    finished = ctx.predicted_outcome == "resolved" and t.status == "closed" and not blocked
    if tail and finished and not problems:
        last_agent = t.agent_turns[-1] if t.agent_turns else (t.turns[-1] if t.turns else None)
        problems.append((last_agent, f"never done: {', '.join(tail)}"))
    if problems:
        note = "; ".join(dict.fromkeys(p for _, p in problems))
        shown = {turn.seq: turn for turn, _ in problems if turn is not None}
        return "fail", note, [evidence(turn) for turn in shown.values()][:3]
    if done_last < 0:
        return "na", "no required action was reached before the conversation ended", []
    note = "required actions in order: " + " → ".join(required) + (" (ended before: " + ", ".join(tail) + ")" if tail else "")
    return "pass", note, [evidence(first[a]) for a in required if a in first][:3]


def empathy(ctx: ScoringContext) -> Verdict:
    t = ctx.transcript
    scores = t.customer_sentiment
    upset = [c for c, s in zip(t.customer_turns, scores) if s <= NEGATIVE or lang.any_match(lang.DISSATISFIED, c.text)]
    shown = saying(t.agent_turns, lang.EMPATHY)
    if not upset:
        if shown:
            return "pass", "empathy shown although the customer was not upset", [evidence(shown[0])]
        return "na", "the customer never sounded upset", []
    after = [a for a in shown if a.seq > upset[0].seq]
    if after:
        return "pass", "acknowledged the customer's frustration", [evidence(after[0])]
    return "fail", "the customer was upset and no agent message acknowledged it", [evidence(upset[0])]


def ownership(ctx: ScoringContext) -> Verdict:
    agent = ctx.transcript.agent_turns
    if not agent:
        return "na", "no agent messages", []
    deflecting = saying(agent, lang.DEFLECTION)
    if deflecting:
        return "fail", "pushed the problem elsewhere", [evidence(a) for a in deflecting[:2]]
    owning = saying(agent, lang.OWNERSHIP)
    if owning:
        return "pass", "took ownership of the request", [evidence(owning[0])]
    return "fail", "no message commits to doing something for the customer", [evidence(agent[0])]


def clarity(ctx: ScoringContext) -> Verdict:
    agent = ctx.transcript.agent_turns
    if not agent:
        return "na", "no agent messages", []
    worst, worst_len, problems = None, 0, []
    for a in agent:
        sents = lang.sentences(a.text)
        longest = max((len(lang.words(s)) for s in sents), default=0)
        n_words = len(lang.words(a.text))
        shouting = sum(1 for w in a.text.split() if len(w) > 3 and w.isupper() and not w.startswith("["))
        if longest > MAX_SENTENCE_WORDS:
            problems.append((a, f"a {longest}-word sentence"))
        elif n_words > MAX_MESSAGE_WORDS:
            problems.append((a, f"a {n_words}-word message"))
        elif shouting >= 3:
            problems.append((a, "capitals used as shouting"))
        if longest > worst_len:
            worst, worst_len = a, longest
    if problems:
        return "fail", "; ".join(p for _, p in problems[:3]), [evidence(a) for a, _ in problems[:3]]
    return "pass", f"longest sentence {worst_len} words", [evidence(worst)] if worst else []


@lru_cache(maxsize=64)  # one pattern per tenant's list, not one per conversation
def _phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")\b")


def forbidden_phrases(ctx: ScoringContext) -> Verdict:
    phrases = ctx.tenant_settings.get("forbidden_phrases")
    phrases = list(DEFAULT_FORBIDDEN if phrases is None else phrases)
    if not phrases:
        return "na", "the workspace forbids no phrases", []
    pattern = _phrase_pattern(tuple(p.lower() for p in phrases if isinstance(p, str) and p.strip()))
    hits = [(a, m.group(0)) for a in ctx.transcript.agent_turns if (m := pattern.search(a.text.lower()))]
    if hits:
        return "fail", "used: " + ", ".join(dict.fromkeys(f'"{h}"' for _, h in hits)), [evidence(a) for a, _ in hits[:3]]
    return "pass", f"none of {len(phrases)} forbidden phrases used", []


def closing(ctx: ScoringContext) -> Verdict:
    t = ctx.transcript
    if not t.agent_turns:
        return "na", "no agent messages", []
    if t.status != "closed":
        return "na", "the conversation is still open", []
    last = t.agent_turns[-2:]
    closers = [a for a in last if lang.any_match(lang.CLOSING_OFFER, a.text) or lang.any_match(lang.CLOSING_FAREWELL, a.text)]
    if closers:
        return "pass", "offered more help or closed politely", [evidence(closers[-1])]
    return "fail", "the last agent message neither offers more help nor closes the conversation", [evidence(last[-1])]


def required_disclaimers(ctx: ScoringContext) -> Verdict:
    wanted = [d for d in ctx.tenant_settings.get("required_disclaimers") or [] if isinstance(d, str) and d.strip()]
    if not wanted:
        return "na", "the workspace requires no disclaimers", []
    said = " ".join(a.text.lower() for a in ctx.transcript.agent_turns)
    missing = [d for d in wanted if d.lower() not in said]
    if missing:
        last = ctx.transcript.agent_turns[-1:]
        return "fail", "missing: " + "; ".join(missing), [evidence(a) for a in last]
    shown = [a for a in ctx.transcript.agent_turns if any(d.lower() in a.text.lower() for d in wanted)]
    return "pass", "every required disclaimer said", [evidence(a) for a in shown[:2]]


@dataclass(frozen=True)
class Criterion:
    key: str
    label: str
    check: Callable[[ScoringContext], Verdict]


CRITERIA: dict[str, Criterion] = {c.key: c for c in (
    Criterion("policy_adherence", "Policy adherence", policy_adherence),
    Criterion("knowledge_accuracy", "Accuracy against the knowledge article", knowledge_accuracy),
    Criterion("empathy", "Empathy", empathy),
    Criterion("ownership", "Ownership", ownership),
    Criterion("clarity", "Clarity", clarity),
    Criterion("forbidden_phrases", "No forbidden phrases", forbidden_phrases),
    Criterion("closing", "Correct closing", closing),
    Criterion("required_disclaimers", "Required disclaimers", required_disclaimers),
)}

DEFAULT_SCORECARD = (
    ("policy_adherence", 3.0), ("knowledge_accuracy", 2.0), ("empathy", 1.0), ("ownership", 1.0),
    ("clarity", 1.0), ("forbidden_phrases", 2.0), ("closing", 1.0), ("required_disclaimers", 1.0),
)


def scorecard_config(tenant_settings: dict) -> list[tuple[str, str, float]]:
    """(key, label, weight) per criterion the tenant scores; raises InvalidInput on a bad configuration."""
    raw = tenant_settings.get("scorecard")
    if raw is None:
        return [(k, CRITERIA[k].label, w) for k, w in DEFAULT_SCORECARD]
    if not isinstance(raw, list) or not raw:
        raise InvalidInput('settings.scorecard: a non-empty list of {"criterion": ..., "weight": ...}')
    out = []
    for i, item in enumerate(raw):
        item = {"criterion": item} if isinstance(item, str) else item
        key = isinstance(item, dict) and (item.get("criterion") or item.get("key"))
        if key not in CRITERIA:
            raise InvalidInput(f"settings.scorecard[{i}]: unknown criterion {key!r}; known: {', '.join(CRITERIA)}")
        weight = item.get("weight", 1.0)
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight <= 0:
            raise InvalidInput(f"settings.scorecard[{i}].weight: a positive number")
        out.append((key, str(item.get("label") or CRITERIA[key].label), float(weight)))
    return out


def score_criteria(ctx: ScoringContext) -> tuple[float | None, list[CriterionResult]]:
    """The weighted share of applicable criteria passed (0-100, None if none applies), and each criterion's result."""
    results = []
    for key, label, weight in scorecard_config(ctx.tenant_settings):
        result, note, shown = CRITERIA[key].check(ctx)
        results.append(CriterionResult(key=key, label=label, weight=weight, result=result, note=note, evidence=shown))
    applicable = [r for r in results if r.result != "na"]
    if not applicable:
        return None, results
    total = sum(r.weight for r in applicable)
    return round(100.0 * sum(r.weight for r in applicable if r.result == "pass") / total, 1), results
