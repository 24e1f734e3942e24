"""Suggested replies: response selection over the conversation context (a dual encoder).

The reply bank holds agent replies from all of history, as templates (see `templating`),
near-duplicates merged; each (context, reply) pair weighs its conversation's probability of having
gone well (`outcome_weight`), so unlabelled history teaches and failed conversations teach little. The selector scores a candidate reply r for the
context c two ways, both learned from (context, true next reply) pairs in history:

- a learned projection W (ridge regression from context vectors to next-reply vectors), so
  r·Wc is high for replies that fit contexts like this one, even ones never seen;
- neighbour contexts: the resolved conversations whose context at some turn was nearest to
  this one vote for the reply their agent actually sent next ("7 similar cases said this").

Score = vote(r) + BETA·cos(r, Wc) + GAMMA·cos(r, mean of the neighbours' replies). Given the context
blocks (the live engine and replay pass them), the trained dual encoder (`selection.ReplySelector`,
which separates the real reply from the others) replaces Wc, weighted SELECT_WEIGHT.

Neighbours written by the agent at the desk count AGENT_BONUS times more: agents reuse their own
phrasings (their macros), so among equally fitting replies the one in the agent's words comes first.

A third, discrete signal adds STATE_WEIGHT·P(reply | dialogue position): the position is the
reason for contact, the last action taken, how many agent messages followed it and who spoke
last; counted in resolved history (with this agent first, then any agent; the reason mixed by the
intent's probabilities). Support chats are procedures, and this is where in the procedure we are.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deskmate.assist.selection import ReplySelector
from deskmate.assist.vector_index import IVFIndex

NEIGHBOURS = 60
AGENT_BONUS = 8.0
STATE_WEIGHT = 2.0
STATE_MIN_SUPPORT = 3
TEMPERATURE = 0.03
BETA = 0.35
GAMMA = 0.25
SELECT_WEIGHT = 2.0
SAME_REPLY = 0.95  # cosine above which two templates are the same reply
MAX_SOURCES = 5


def _normal_form(template: str) -> str:
    return re.sub(r"[^a-z0-9\[\]_ ]+", "", template.lower()).strip()


@dataclass
class ReplyExample:
    """One (context, true next reply) pair from history."""

    context: np.ndarray
    template: str
    conversation: str  # source conversation external id
    reason: str | None
    agent: int | None = None
    position: str = ""  # dialogue_position() of the state the reply answered
    weight: float = 1.0  # P(the conversation went well)
    blocks: np.ndarray | None = None  # next_action.context_blocks() of the state, for the dual encoder


@dataclass
class RankedReply:
    entry: int
    template: str
    score: float
    votes: float
    support: int  # neighbour contexts that were followed by this reply
    neighbours: int
    sources: list[str] = field(default_factory=list)


class ReplyModel:
    def __init__(self, *, ridge: float = 1.0):
        self.ridge = ridge
        self.templates_: list[str] = []
        self.vectors_ = np.zeros((0, 0), dtype=np.float32)
        self.counts_ = np.zeros(0, dtype=np.int64)
        self.sources_: list[list[str]] = []
        self.projection_: np.ndarray | None = None
        self.contexts_: IVFIndex | None = None
        self.context_entry_ = np.zeros(0, dtype=np.int64)
        self.context_conv_: list[str] = []
        self.context_agent_ = np.zeros(0, dtype=np.int64)
        self.context_weight_ = np.zeros(0, dtype=np.float32)
        self.selector_ = ReplySelector()
        self.state_counts_: dict[str, dict[int, float]] = {}

    # ---- training ----------------------------------------------------------------------

    def fit(self, examples: list[ReplyExample], encoder, known: dict[str, np.ndarray] | None = None) -> "ReplyModel":
        """`known`: vectors already computed for some texts (a reply with nothing to template is its own
        template): only the rest are encoded, so each message is encoded once."""
        if not examples:
            return self
        forms: dict[str, int] = {}
        templates: list[str] = []
        example_entry = []
        for ex in examples:
            key = _normal_form(ex.template)
            if key not in forms:
                forms[key] = len(templates)
                templates.append(ex.template)
            example_entry.append(forms[key])
        known = known or {}
        todo = [t for t in templates if t not in known]
        fresh = dict(zip(todo, encoder.encode(todo))) if todo else {}
        vectors = np.stack([known[t] if t in known else fresh[t] for t in templates]).astype(np.float32)
        merged = self._merge_near_duplicates(vectors, Counter(example_entry))
        example_entry = np.array([merged[e] for e in example_entry], dtype=np.int64)
        keep = sorted(set(example_entry.tolist()))
        renumber = {old: new for new, old in enumerate(keep)}
        self.templates_ = [templates[i] for i in keep]
        self.vectors_ = vectors[keep]
        example_entry = np.array([renumber[e] for e in example_entry], dtype=np.int64)
        self.counts_ = np.bincount(example_entry, minlength=len(keep))
        self.sources_ = [[] for _ in keep]
        for ex, entry in zip(examples, example_entry):
            if len(self.sources_[entry]) < MAX_SOURCES and ex.conversation not in self.sources_[entry]:
                self.sources_[entry].append(ex.conversation)
        contexts = np.stack([ex.context for ex in examples]).astype(np.float32)
        targets = self.vectors_[example_entry]
        weight = np.array([ex.weight for ex in examples], dtype=np.float32)
        dim = contexts.shape[1]
        gram = (contexts * weight[:, None]).T @ contexts + self.ridge * np.eye(dim, dtype=np.float32)
        self.projection_ = np.linalg.solve(gram, (contexts * weight[:, None]).T @ targets).astype(np.float32)
        self.context_weight_ = weight
        if all(ex.blocks is not None for ex in examples):
            self.selector_ = ReplySelector().fit(np.stack([ex.blocks for ex in examples]).astype(np.float32), targets,
                                                 example_entry, weight)
        self.contexts_ = IVFIndex(n_probe=16).fit(contexts, np.arange(len(contexts)))
        self.context_entry_ = example_entry
        self.context_conv_ = [ex.conversation for ex in examples]
        self.context_agent_ = np.array([-1 if ex.agent is None else ex.agent for ex in examples], dtype=np.int64)
        counts: dict[str, Counter] = {}
        for ex, entry in zip(examples, example_entry.tolist()):
            for reason in {ex.reason, None}:
                for key in _state_keys(reason, ex.position, ex.agent):
                    counts.setdefault(key, Counter())[entry] += ex.weight
        self.state_counts_ = {k: dict(v) for k, v in counts.items()}
        return self

    def state_votes(self, intent_probs: dict[str, float], position: str, agent: int | None) -> np.ndarray:
        """P(reply | dialogue position) over the bank, the reason mixed by probability; at each reason the
        most specific level (this agent, then any agent) with enough support answers."""
        votes = np.zeros(len(self.templates_), dtype=np.float64)
        mass = sum(intent_probs.values())
        mixture = list(intent_probs.items()) + ([(None, 1.0 - mass)] if mass < 0.999 else [])
        for reason, p in mixture:
            if p <= 0:
                continue
            for key in _state_keys(reason, position, agent):
                found = self._state_array(key)
                if found is not None:
                    entries, probs = found
                    votes[entries] += p * probs
                    break
        return votes

    def _state_array(self, key: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(entries, probabilities) of one dialogue position, built once from the counts."""
        cache = self.__dict__.setdefault("_state_arrays", {})
        if key not in cache:
            counter = self.state_counts_.get(key)
            total = sum(counter.values()) if counter else 0
            cache[key] = None if total < STATE_MIN_SUPPORT else (
                np.fromiter(counter.keys(), dtype=np.int64, count=len(counter)),
                np.fromiter(counter.values(), dtype=np.float64, count=len(counter)) / total)
        return cache[key]

    @staticmethod
    def _merge_near_duplicates(vectors: np.ndarray, counts: Counter) -> dict[int, int]:
        """Map each template to a leader: the most used template within SAME_REPLY cosine of it.
        Leaders are found through the IVF index, so this stays O(n) in the bank size."""
        index = IVFIndex(n_probe=8).fit(vectors, np.arange(len(vectors)))
        mapping: dict[int, int] = {}
        for i in sorted(range(len(vectors)), key=lambda i: -counts.get(i, 0)):
            if i in mapping:
                continue
            mapping[i] = i
            ids, sims = index.search(vectors[i], 32)
            for j, sim in zip(ids.tolist(), sims.tolist()):
                if sim >= SAME_REPLY and j not in mapping:
                    mapping[j] = i
        return mapping

    # ---- selection ---------------------------------------------------------------------

    def _neighbourhood(self, context: np.ndarray, agent: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        ids, sims = self.contexts_.search(context, NEIGHBOURS)
        if not len(ids):
            return ids, sims
        weights = np.exp((sims - sims.max()) / TEMPERATURE)
        if len(self.context_weight_):
            weights = weights * self.context_weight_[ids]
        if agent is not None and len(self.context_agent_):
            weights = weights * np.where(self.context_agent_[ids] == agent, 1.0 + AGENT_BONUS, 1.0)
        return ids, weights / weights.sum()

    def _fit_terms(self, context: np.ndarray, blocks: np.ndarray | None) -> tuple[np.ndarray, float]:
        """The query vector for "this reply fits this context" and its weight in the score."""
        if blocks is not None and self.selector_.fitted:
            return self.selector_.query(blocks), SELECT_WEIGHT
        return _unit(self.projection_.T @ context), BETA

    def rank(self, context: np.ndarray, k: int = 3, *, avoid: list[np.ndarray] = (), pool: int = 30,
             agent: int | None = None, intent_probs: dict[str, float] | None = None,
             position: str | None = None, blocks: np.ndarray | None = None) -> list[RankedReply]:
        """The k best distinct replies for this context, best first (vectorised over the whole bank)."""
        if self.projection_ is None or not self.templates_:
            return []
        size = len(self.templates_)
        ids, weights = self._neighbourhood(context, agent)
        entries = self.context_entry_[ids]
        votes = np.bincount(entries, weights=weights, minlength=size)
        predicted, fit_weight = self._fit_terms(context, blocks)
        knn_mean = _unit(self.vectors_[entries].T @ weights) if len(ids) else predicted
        scores = votes + fit_weight * (self.vectors_ @ predicted) + GAMMA * (self.vectors_ @ knn_mean)
        if position is not None:
            scores = scores + STATE_WEIGHT * self.state_votes(intent_probs or {}, position, agent)
        cand = np.argpartition(-scores, min(pool, size - 1))[:pool]
        cand_scores = scores[cand]
        if len(avoid):  # an agent does not send the same message twice in a row
            said = np.stack(avoid) @ self.vectors_[cand].T
            cand_scores = cand_scores - 0.5 * (said.max(axis=0) >= SAME_REPLY)
        chosen: list[RankedReply] = []
        for idx in np.argsort(-cand_scores):
            entry = int(cand[idx])
            if any(float(self.vectors_[entry] @ self.vectors_[c.entry]) >= 0.9 for c in chosen):
                continue  # near-identical to one already chosen: show a real alternative instead
            followed = ids[entries == entry]
            sources = list(dict.fromkeys(self.context_conv_[i] for i in followed.tolist()))[:MAX_SOURCES]
            chosen.append(RankedReply(entry, self.templates_[entry], float(cand_scores[idx]), float(votes[entry]),
                                      int(len(followed)), len(ids), sources or self.sources_[entry][:3]))
            if len(chosen) >= k:
                break
        return chosen

    def score_texts(self, context: np.ndarray, vectors: np.ndarray, agent: int | None = None,
                    intent_probs: dict[str, float] | None = None, position: str | None = None,
                    blocks: np.ndarray | None = None) -> np.ndarray:
        """The same score for arbitrary candidate replies (the true reply among sampled distractors)."""
        if self.projection_ is None:
            return np.zeros(len(vectors), dtype=np.float32)
        ids, weights = self._neighbourhood(context, agent)
        predicted, fit_weight = self._fit_terms(context, blocks)
        neighbour_vecs = self.vectors_[self.context_entry_[ids]] if len(ids) else np.zeros((0, vectors.shape[1]))
        knn_mean = _unit(neighbour_vecs.T @ weights) if len(ids) else predicted
        votes = ((vectors @ neighbour_vecs.T) >= SAME_REPLY).astype(np.float32) @ weights if len(ids) else 0.0
        positional = self.state_votes(intent_probs or {}, position, agent) if position is not None else None
        if positional is not None and positional.any():
            entries = np.flatnonzero(positional)
            votes = votes + STATE_WEIGHT * (((vectors @ self.vectors_[entries].T) >= SAME_REPLY).astype(np.float32)
                                            @ positional[entries])
        return votes + fit_weight * (vectors @ predicted) + GAMMA * (vectors @ knn_mean)

    # ---- persistence -------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if self.projection_ is None:
            (directory / "replies.json").write_text(json.dumps({"empty": True}))
            return
        (directory / "reply_states.json").write_text(json.dumps(self.state_counts_))
        np.savez(directory / "replies.npz", vectors=self.vectors_, counts=self.counts_, projection=self.projection_,
                 context_entry=self.context_entry_, context_agent=self.context_agent_,
                 context_weight=self.context_weight_,
                 **({"selector": self.selector_.coef_} if self.selector_.fitted else {}))
        self.contexts_.save(directory / "reply_contexts.npz")
        (directory / "replies.json").write_text(json.dumps(
            {"templates": self.templates_, "sources": self.sources_, "context_conv": self.context_conv_}))

    @classmethod
    def load(cls, directory: Path) -> "ReplyModel":
        model = cls()
        meta = json.loads((directory / "replies.json").read_text())
        if meta.get("empty"):
            return model
        with np.load(directory / "replies.npz") as data:
            model.vectors_, model.counts_ = data["vectors"], data["counts"]
            model.projection_, model.context_entry_ = data["projection"], data["context_entry"]
            model.context_agent_ = data["context_agent"]
            if "context_weight" in data.files:
                model.context_weight_ = data["context_weight"]
            if "selector" in data.files:
                model.selector_.coef_ = data["selector"]
        model.contexts_ = IVFIndex.load(directory / "reply_contexts.npz")
        model.state_counts_ = {k: {int(e): n for e, n in v.items()}
                               for k, v in json.loads((directory / "reply_states.json").read_text()).items()}
        model.templates_, model.sources_, model.context_conv_ = meta["templates"], meta["sources"], meta["context_conv"]
        return model


def dialogue_position(turns) -> str:
    """Where in the procedure the conversation is: last action, agent messages since it, who spoke last."""
    since, last_action = 0, "^"
    for turn in reversed(turns):
        if turn.kind == "action" and turn.action:
            last_action = turn.action
            break
        if turn.role == "agent":
            since += 1
    last_role = turns[-1].role if turns else "none"
    return f"{last_action}|{min(since, 3)}|{last_role}"


def _state_keys(reason: str | None, position: str, agent: int | None) -> list[str]:
    reason = reason or "*"
    keys = [f"{reason}|{position}"]
    if agent is not None:
        keys.insert(0, f"{reason}|{position}|a{agent}")
    return keys


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return (v / n).astype(np.float32) if n > 1e-9 else v.astype(np.float32)
