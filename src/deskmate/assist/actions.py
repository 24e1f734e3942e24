"""Next best action: the procedure's next step where policy defines one, else what history did next.

History is counted, per reason for contact, as "after these actions, past conversations took
action X next", each conversation weighted by its probability of having gone well (`outcome_weight`:
unlabelled history counts, it is never dropped), at four levels of detail (the whole sequence so
far and the last action, for the reason and for any reason); the most specific level with enough
support answers. With the intent uncertain, the answer mixes the candidates' procedures and
histories by their probability; a context classifier (`next_action`) may stand in for the history
part. `usual_steps` is the mined procedure: what agents usually do, in order, with support counts,
shown apart from any checklist that policy requires. A procedure's next step is
`deskmate.conversations.transcript.procedure_progress`, the rule every domain reads progress by.
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


def _levels(reason: str | None, done: list[str]) -> list[tuple[str, str, str]]:
    last = done[-1] if done else ""
    levels = []
    if reason:
        levels += [(f"seq|{reason}", _prefix_key(done), "sequence"), (f"last|{reason}", last, "last action")]
    levels += [(f"seq|{ANY}", _prefix_key(done), "any reason, sequence"), (f"last|{ANY}", last, "any reason")]
    return levels


class ActionModel:
    def __init__(self):
        self.counts_: dict[str, dict[str, Counter]] = {}  # level key -> prefix -> Counter(next): outcome-weighted
        self.support_: dict[str, dict[str, Counter]] = {}  # the same, plain conversation counts (what is shown)

    def fit(self, conversations: list[tuple[str | None, list[str]]], weights=None) -> "ActionModel":
        """`conversations`: (reason, actions in order); `weights`: each one's P(went well) (default 1)."""
        counts: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
        support: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
        for n, (reason, actions) in enumerate(conversations):
            w = 1.0 if weights is None else float(weights[n])
            seq = list(actions) + [END]
            for i, nxt in enumerate(seq):
                done = seq[:i]
                for key, prefix, _ in _levels(reason, done):
                    counts[key][prefix][nxt] += w
                    support[key][prefix][nxt] += 1
        self.counts_ = {k: dict(v) for k, v in counts.items()}
        self.support_ = {k: dict(v) for k, v in support.items()}
        return self

    def _distribution(self, reason: str | None, done: list[str], *, leave_out: tuple[str, float, str | None] | None = None,
                      ) -> tuple[Counter, str, str, str]:
        """(weighted counter, level name, level key, prefix) at the most specific level with MIN_SUPPORT
        conversations; `leave_out` (next action, weight, the conversation's reason) removes one training
        conversation's own count, so features computed for training are what unseen history would give."""
        for key, prefix, name in _levels(reason, done):
            counter = self.counts_.get(key, {}).get(prefix)
            raw = self.support_.get(key, {}).get(prefix) if self.support_ else counter
            n = sum(raw.values()) if raw else 0
            if counter and leave_out is not None and (key.endswith(f"|{ANY}") or reason == leave_out[2]):
                counter = Counter(counter)
                counter[leave_out[0]] -= leave_out[1]
                if counter[leave_out[0]] <= 1e-9:
                    del counter[leave_out[0]]
                n -= 1
            if counter and n >= MIN_SUPPORT:
                return counter, name, key, prefix
        return Counter(), "none", "", ""

    def distribution(self, intent_probs: dict[str, float], done: list[str], *,
                     leave_out: tuple[str, float, str | None] | None = None) -> dict[str, float]:
        """P(next action | actions so far), reasons mixed by probability (the rest: any reason)."""
        out: Counter = Counter()
        mass = sum(intent_probs.values())
        for reason, p in list(intent_probs.items()) + ([(None, 1.0 - mass)] if mass < 0.999 else []):
            counter = self._distribution(reason, done, leave_out=leave_out)[0] if p > 0 else None
            total = sum(counter.values()) if counter else 0.0
            for action, c in (counter.items() if total else ()):
                out[action] += p * c / total
        return dict(out)

    def support(self, reason: str | None, done: list[str], action: str) -> tuple[int, int]:
        """(conversations that took `action` next, conversations seen at this point) at the answering level."""
        _, _, key, prefix = self._distribution(reason, done)
        raw = (self.support_ or self.counts_).get(key, {}).get(prefix) or Counter()
        return int(round(raw.get(action, 0))), int(round(sum(raw.values())))

    def usual_steps(self, reason: str | None, max_steps: int = 12) -> list[tuple[str, int, int]]:
        """The mined procedure for a reason: from the start, the most frequent next action at each step
        (sequence level), as (action, conversations that took it, conversations that got this far)."""
        key = f"seq|{reason or ANY}"
        table, raw_table = self.counts_.get(key, {}), (self.support_ or self.counts_).get(key, {})
        done: list[str] = []
        out = []
        while len(out) < max_steps:
            counter, raw = table.get(_prefix_key(done)), raw_table.get(_prefix_key(done))
            if not counter or sum(raw.values()) < MIN_SUPPORT:
                break
            action = max(counter, key=counter.get)
            if action == END:
                break
            out.append((action, int(round(raw.get(action, 0))), int(round(sum(raw.values())))))
            done.append(action)
        return out

    def usual_progress(self, reason: str | None, done: list[str]) -> list[tuple[str, str, int, int]]:
        """The mined procedure for this reason (any reason while it is unknown) against what was done:
        (action, "done" / "next" / "left", support, total); the first step not yet taken is "next"."""
        mined = self.usual_steps(reason) or (self.usual_steps(None) if reason else [])
        taken, out, marked = list(done), [], False
        for action, support, total in mined:
            if action in taken:
                taken.remove(action)
                state = "done"
            else:
                state, marked = ("left", True) if marked else ("next", True)
            out.append((action, state, support, total))
        return out

    def next_action(self, intent_probs: dict[str, float], done: list[str],
                    procedures: dict[str, list[str]] | None = None, learned: dict[str, float] | None = None) -> ActionStep:
        """The most likely next action, mixing intents by probability; procedures outrank history.
        `learned`: a context classifier's distribution, used instead of the counts for the mass no
        procedure covers."""
        procedures = procedures or {}
        scores: Counter = Counter()
        probs = intent_probs or {}
        mass = sum(probs.values())
        free = 0.0
        for reason, p in list(probs.items()) + ([(None, 1.0 - mass)] if mass < 0.999 else []):
            if p <= 0:
                continue
            if reason in procedures and procedures[reason]:
                dist = Counter({procedure_progress(procedures[reason], done).next or END: 1.0})
            elif learned is not None:
                free += p
                continue
            else:
                counter = self._distribution(reason, done)[0]
                total = sum(counter.values())
                dist = Counter({a: c / total for a, c in counter.items()}) if total else Counter()
            for action, q in dist.items():
                scores[action] += p * q
        for action, q in (learned or {}).items():
            scores[action] += free * q
        ranked = [(a, s) for a, s in scores.most_common() if a != END]
        if not ranked:
            return ActionStep(None, 0.0, 0, 0, "none")
        best, prob = ranked[0]
        top_reason = max(probs, key=probs.get) if probs else None
        level = self._distribution(top_reason, done)[1]
        support, total = self.support(top_reason, done, best)
        return ActionStep(best, float(prob), support, total, level, [(a, float(s)) for a, s in ranked[1:4]])

    def save(self, path: Path) -> None:
        def plain(table):
            return {k: {p: dict(c) for p, c in v.items()} for k, v in table.items()}

        path.write_text(json.dumps({"format": 2, "counts": plain(self.counts_), "support": plain(self.support_)}))

    @classmethod
    def load(cls, path: Path) -> "ActionModel":
        def counters(table):
            return {k: {p: Counter(c) for p, c in v.items()} for k, v in table.items()}

        model = cls()
        raw = json.loads(path.read_text())
        if raw.get("format") == 2:
            model.counts_, model.support_ = counters(raw["counts"]), counters(raw["support"])
        else:  # an older file: plain counts of resolved conversations
            model.counts_ = counters(raw)
        return model
