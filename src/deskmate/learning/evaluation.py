"""Scoring ranker versions with assist's replay harness, and re-scoring recorded candidates cheaply.

`replay_with(ranker)` runs `deskmate.assist.replay.run_replay` (train on the earlier history,
replay the held-out conversations message by message through `AssistEngine`) with the live
ranker replaced by `ranker`, and records every candidate list the engine asked it to order
(`Moment`s). The harness's figures are the version's replay scores. Because candidate lists do
not depend on the ranker, the recorded moments can then be re-ranked offline under any
parameters in milliseconds (`offline_figures`): that is how a retrain picks its weights without
a replay per trial, before the chosen version is replayed for real.

The offline measures follow the harness's definitions: next-action hit@1 when the agent's next
turn is an action; reply recall@3 (a suggestion within cosine 0.9 of the agent's real next reply,
as a template) when it is a reply; knowledge hit@3 after the customer's second message where the
reason's procedure links an article. "Resolution-linked" figures count only held-out
conversations that resolved with the customer's sentiment rising.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from deskmate.learning.keys import candidate_key, candidate_score
from deskmate.learning.ranking import Ranker, overriding

SAME_REPLY = 0.9


@dataclass
class Moment:
    kind: str
    conversation_id: int | None
    seq: int | None
    keys: list[str | None]
    bases: list[float]
    labels: list[str]  # what is compared with the truth: article id, reply template, action name
    items: list[str]  # what a suggestion id names: article id, reply bank entry, action name
    context: dict


@dataclass
class Truth:
    """What the agent really did after each message of one held-out conversation."""

    next_action: dict[int, str] = field(default_factory=dict)  # seq -> action taken as the very next turn
    next_reply: dict[int, str] = field(default_factory=dict)  # seq -> template of the very next agent reply
    knowledge_seq: int | None = None  # seq of the customer's 2nd message
    article: int | None = None
    resolved_happier: bool = False


class RecordingRanker(Ranker):
    """Delegates to `inner` and keeps every candidate list it was handed."""

    def __init__(self, inner: Ranker):
        super().__init__(inner.stats, inner.params, inner.version)
        self.inner = inner
        self.moments: list[Moment] = []

    def rerank(self, kind, candidates, context=None):
        candidates = list(candidates)
        ctx = dict(context or {})
        ctx["actions"] = list(ctx.get("actions") or ())
        self.moments.append(Moment(
            kind, ctx.get("conversation_id"), ctx.get("seq"), [candidate_key(kind, c, ctx) for c in candidates],
            [candidate_score(c) for c in candidates], [_field(kind, c, LABELS) for c in candidates],
            [_field(kind, c, ITEMS) for c in candidates], {k: v for k, v in ctx.items() if k in ("intent_probs", "reason", "actions")}))
        return self.inner.rerank(kind, candidates, context)


LABELS = {"kb": ("article_id",), "reply": ("template",), "nba": ("action", "label")}
ITEMS = {"kb": ("article_id",), "reply": ("entry",), "nba": ("action", "label")}


def _field(kind: str, candidate, names: dict) -> str:
    for name in names.get(kind, ()):
        value = candidate.get(name) if isinstance(candidate, dict) else getattr(candidate, name, None)
        if value is not None:
            return str(value)
    return str(candidate[0]) if isinstance(candidate, (tuple, list)) and candidate else ""


def truths_for(session, *, tenant_id: int, conversations, procedures: dict) -> dict[int, Truth]:
    """Ground truth for the offline measures, from the held-out conversations themselves and their scores."""
    from sqlalchemy import select

    from deskmate.assist.templating import to_template
    from deskmate.outcomes.models import ConversationScore

    shifts = dict(session.execute(select(ConversationScore.conversation_id, ConversationScore.sentiment_shift)
                                  .where(ConversationScore.conversation_id.in_([c.id for c in conversations]))).all())
    out = {}
    for conv in conversations:
        truth = Truth(article=(procedures.get(conv.reason) or (None, None, None))[2] if conv.reason else None)
        shift = shifts.get(conv.id)
        truth.resolved_happier = conv.outcome == "resolved" and (shift is None or shift > 0)
        customer_texts = 0
        for prev, turn in zip(conv.turns, conv.turns[1:]):
            if turn.role == "agent" and turn.kind == "action" and turn.action:
                truth.next_action[prev.seq] = turn.action
            elif turn.role == "agent" and turn.kind == "text" and turn.text.strip():
                truth.next_reply[prev.seq] = to_template(turn.text, conv.customer, conv.agent_name)
        for turn in conv.turns:
            if turn.role == "customer" and turn.kind == "text":
                customer_texts += 1
                if customer_texts == 2:
                    truth.knowledge_seq = turn.seq
        out[conv.id] = truth
    return out


def offline_figures(moments: list[Moment], truths: dict[int, Truth], ranker: Ranker, encoder,
                    *, resolution_linked: bool = False, matcher: "ReplyMatcher | None" = None) -> dict[str, float | None]:
    hits: dict[str, list[int]] = defaultdict(list)
    reply_vectors = matcher or ReplyMatcher(encoder)
    for m in moments:
        scored = moment_hit(m, truths, ranker, reply_vectors, resolution_linked=resolution_linked)
        if scored is not None:
            hits[scored[0]].append(scored[1])
    return {name: (round(float(np.mean(v)), 4) if v else None) for name, v in sorted(hits.items())} | {
        f"n_{name}": len(v) for name, v in sorted(hits.items())}


def moment_hit(m: Moment, truths: dict[int, Truth], ranker: Ranker, matcher: "ReplyMatcher",
               *, resolution_linked: bool = False) -> tuple[str, int] | None:
    """(figure, 1 if the ranker's order hits what the agent really did else 0), or None when the moment is not scored."""
    truth = truths.get(m.conversation_id)
    if truth is None or m.seq is None or (resolution_linked and not truth.resolved_happier):
        return None
    if m.kind == "nba" and m.seq in truth.next_action:
        order = order_of(ranker, m)
        return "next_action_hit@1", int(bool(order) and m.labels[order[0]] == truth.next_action[m.seq])
    if m.kind == "reply" and m.seq in truth.next_reply:
        top = [m.labels[i] for i in order_of(ranker, m)[:3]]
        return "reply_recall@3", int(matcher.any_same(top, truth.next_reply[m.seq]))
    if m.kind == "kb" and truth.article is not None and m.seq == truth.knowledge_seq:
        return "knowledge_hit@3", int(str(truth.article) in [m.labels[i] for i in order_of(ranker, m)[:3]])
    return None


def discordant(moments: list[Moment], truths: dict[int, Truth], a: Ranker, b: Ranker, matcher: "ReplyMatcher",
               *, resolution_linked: bool = True) -> dict[str, list[int]]:
    """Per figure, [moments only `a` got right, moments only `b` got right]: the paired view of a difference."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for m in moments:
        hit_a = moment_hit(m, truths, a, matcher, resolution_linked=resolution_linked)
        if hit_a is None:
            continue
        hit_b = moment_hit(m, truths, b, matcher, resolution_linked=resolution_linked)
        if hit_a[1] != hit_b[1]:
            out[hit_a[0]][0 if hit_a[1] else 1] += 1
    return {name: out[name] for name in sorted(out)}


def order_of(ranker: Ranker, m: Moment) -> list[int]:
    final = ranker.final_scores(m.kind, m.keys, m.bases, m.context)
    return sorted(range(len(final)), key=lambda i: (-final[i], i))


class ReplyMatcher:
    def __init__(self, encoder):
        self.encoder = encoder
        self.cache: dict[str, np.ndarray] = {}

    def vectors(self, texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if todo:
            for t, v in zip(todo, self.encoder.encode(todo)):
                self.cache[t] = v
        return np.stack([self.cache[t] for t in texts]) if texts else np.zeros((0, self.encoder.dim))

    def any_same(self, candidates: list[str], real: str) -> bool:
        if not candidates:
            return False
        if real in candidates:
            return True
        sims = self.vectors(candidates) @ self.vectors([real])[0]
        return bool((sims >= SAME_REPLY).any())


def replay_with(settings, sessionmaker, *, tenant_slug: str, ranker: Ranker, holdout: float, limit: int | None = None,
                progress=None):
    """Assist's replay harness with `ranker` in the engine; returns (report, recorded moments)."""
    from deskmate.assist.replay import run_replay

    recorder = RecordingRanker(ranker)
    with overriding(settings, tenant_slug, recorder):
        report = run_replay(settings, sessionmaker, tenant_slug=tenant_slug, holdout=holdout, limit=limit,
                            progress=progress)
    return report, recorder.moments
