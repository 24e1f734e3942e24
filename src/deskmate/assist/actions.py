"""Next best action: the procedure's next step where policy defines one, else what history did next.

History is counted, per reason for contact, as "after these actions, resolved conversations took
action X next", at three levels of detail (the whole sequence so far, the last action, any
reason), and the most specific level with enough support answers. With the intent uncertain,
the answer mixes the candidates' procedures and histories by their probability. A procedure's next
step is `deskmate.conversations.transcript.procedure_progress`, the rule every domain reads progress by.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from deskmate.conversations.transcript import procedure_progress

END = "<end>"
MIN_SUPPORT = 3
ANY = "*"


def _prefix_key(actions: list[str]) -> str:
    return ">".join(actions[-6:])


@dataclass
class ActionStep:
    action: str | None
    probability: float
    support: int
    total: int
    level: str  # "sequence", "last action", "any reason"
    alternatives: list[tuple[str, float]] = field(default_factory=list)


class ActionModel:
    def __init__(self):
        self.counts_: dict[str, dict[str, Counter]] = {}  # level key -> prefix -> Counter(next)

    def fit(self, conversations: list[tuple[str | None, list[str]]]) -> "ActionModel":
        """`conversations`: (reason, actions in order) of resolved conversations."""
        counts: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
        for reason, actions in conversations:
            seq = list(actions) + [END]
            for i, nxt in enumerate(seq):
                done = seq[:i]
                last = done[-1] if done else ""
                if reason:
                    counts[f"seq|{reason}"][_prefix_key(done)][nxt] += 1
                    counts[f"last|{reason}"][last][nxt] += 1
                counts[f"last|{ANY}"][last][nxt] += 1
        self.counts_ = {k: dict(v) for k, v in counts.items()}
        return self

    def _distribution(self, reason: str | None, done: list[str]) -> tuple[Counter, str]:
        last = done[-1] if done else ""
        levels = []
        if reason:
            levels += [(f"seq|{reason}", _prefix_key(done), "sequence"), (f"last|{reason}", last, "last action")]
        levels.append((f"last|{ANY}", last, "any reason"))
        for key, prefix, name in levels:
            counter = self.counts_.get(key, {}).get(prefix)
            if counter and sum(counter.values()) >= MIN_SUPPORT:
                return counter, name
        return Counter(), "none"

    def support(self, reason: str | None, done: list[str], action: str) -> tuple[int, int]:
        counter, _ = self._distribution(reason, done)
        return counter.get(action, 0), sum(counter.values())

    def next_action(self, intent_probs: dict[str, float], done: list[str],
                    procedures: dict[str, list[str]] | None = None) -> ActionStep:
        """The most likely next action, mixing intents by probability; procedures outrank history."""
        procedures = procedures or {}
        scores: Counter = Counter()
        probs = intent_probs or {}
        mass = sum(probs.values())
        for reason, p in list(probs.items()) + ([(None, 1.0 - mass)] if mass < 0.999 else []):
            if p <= 0:
                continue
            if reason in procedures and procedures[reason]:
                dist = Counter({procedure_progress(procedures[reason], done).next or END: 1.0})
            else:
                counter, _ = self._distribution(reason, done)
                total = sum(counter.values())
                dist = Counter({a: c / total for a, c in counter.items()}) if total else Counter()
            for action, q in dist.items():
                scores[action] += p * q
        ranked = [(a, s) for a, s in scores.most_common() if a != END]
        if not ranked:
            return ActionStep(None, 0.0, 0, 0, "none")
        best, prob = ranked[0]
        top_reason = max(probs, key=probs.get) if probs else None
        counter, level = self._distribution(top_reason, done)
        support, total = counter.get(best, 0), sum(counter.values())
        return ActionStep(best, float(prob), support, total, level, [(a, float(s)) for a, s in ranked[1:4]])

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({k: {p: dict(c) for p, c in v.items()} for k, v in self.counts_.items()}))

    @classmethod
    def load(cls, path: Path) -> "ActionModel":
        model = cls()
        raw = json.loads(path.read_text())
        model.counts_ = {k: {p: Counter(c) for p, c in v.items()} for k, v in raw.items()}
        return model
