"""Outcome-aware re-ranking of live suggestions: the one interface live assist calls.

    ranker = load_ranker(settings, tenant_slug)
    ordered = ranker.rerank("kb", hits, {"intent_probs": {...}, "actions": [...]})

Knowledge and replies: a candidate keeps its base score (retrieval, response selection),
normalised so the best candidate is 1, and gains `weight x lift`, where lift is how much more
often (in log-odds) suggestions with its key were accepted, and (outcome objective) how much better
their conversations went when they were, than their peers for the reasons this conversation is
likely about (`stats.SuggestionStats`). With no evidence the lift is 0 and the base order stands.

Next actions are alternatives at one point of a procedure, so their evidence is a distribution:
assist's probabilities are the prior, updated with how often each move was taken there (clicks) or
taken in a conversation that went well (outcome), see `Ranker._posterior_scores`.

The ranker in a process is the current version's snapshot (parameters + stats, saved by a
retrain) plus every feedback row joined since that snapshot, read incrementally by id: a closed
conversation changes live suggestions within `RELOAD_SECONDS`, with no retrain.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Sequence

from sqlalchemy import select

from deskmate.learning import store
from deskmate.learning.keys import candidate_key, candidate_score
from deskmate.learning.stats import SuggestionStats, mix_over_reasons

RELOAD_SECONDS = 5.0
RECENT_WINDOW = 2000  # ids below the highest seen that are re-read: rows can commit out of id order
DEFAULT_PARAMS = {
    "objective": "outcome",  # or "clicks": rank by acceptance alone (the comparison baseline)
    "prior": 4.0,  # pseudo-observations a suggestion's own evidence must outweigh
    "quality_weight": 1.0,  # outcome objective: weight of E[reward | accepted] beside P(accepted | shown)
    # kb, reply: the lift's weight beside relevance; nba: what one observation counts for (`_posterior_scores`)
    "weights": {"kb": 0.2, "reply": 0.2, "nba": 1.0},
    "max_lift": 2.0,  # log-odds; one suggestion's history never overrides relevance entirely
    "evidence_prior": 4.0,  # nba: how many observations assist's own probabilities are worth
}
# Kinds whose candidates are alternatives at one point of a procedure ("<last action>><action>" keys), so how
# often each was taken there is a distribution to update; the others keep a bounded lift over relevance.
EVIDENCE_UPDATED = ("nba",)


def merged_params(params: dict | None) -> dict:
    out = {**DEFAULT_PARAMS, **(params or {})}
    out["weights"] = {**DEFAULT_PARAMS["weights"], **((params or {}).get("weights") or {})}
    return out


def intent_probs_of(context: dict | None) -> dict[str, float]:
    context = context or {}
    probs = context.get("intent_probs")
    if probs:
        return {str(k): float(v) for k, v in probs.items()}
    reason = context.get("reason")
    return {reason: 1.0} if reason else {}


class Ranker:
    def __init__(self, stats: SuggestionStats | None = None, params: dict | None = None, version: str | None = None):
        self.stats = stats or SuggestionStats()
        self.params = merged_params(params)
        self.version = version

    def lift(self, kind: str, key: str | None, intent_probs: dict[str, float]) -> float:
        if not key or kind not in self.stats.cells:
            return 0.0
        value = self.stats.lift(kind, key, intent_probs, self.params["objective"], float(self.params["prior"]),
                                float(self.params.get("quality_weight", 1.0)))
        limit = float(self.params["max_lift"])
        return max(-limit, min(limit, value))

    def scores(self, kind: str, candidates: Sequence[Any], context: dict | None = None) -> list[float]:
        return self.final_scores(kind, [candidate_key(kind, c, context) for c in candidates],
                                 [candidate_score(c) for c in candidates], context)

    def final_scores(self, kind: str, keys: Sequence[str | None], bases: Sequence[float],
                     context: dict | None = None) -> list[float]:
        """One score per candidate from its stable key and assist's base score (the one scoring rule the
        live ranker, the replay and the offline re-scoring share)."""
        top = max((abs(b) for b in bases), default=0.0) or 1.0
        weight = float(self.params["weights"].get(kind, 0.0))
        probs = intent_probs_of(context)
        if kind in EVIDENCE_UPDATED and kind in self.stats.cells and weight:
            return self._posterior_scores(kind, keys, bases, probs, weight)
        return [b / top + weight * self.lift(kind, k, probs) for b, k in zip(bases, keys)]

    def _posterior_scores(self, kind: str, keys: Sequence[str | None], bases: Sequence[float],
                          probs: dict[str, float], weight: float) -> list[float]:
        """Assist's probabilities as a Dirichlet prior worth `evidence_prior` observations, updated with how
        often each candidate was taken at this point for each likely reason (clicks), or taken in a
        conversation that went well (outcome: P(move | here, it went well)), each observation counting
        `weight`. The learned share grows with the evidence, so a long history can overturn the base model
        (bench/learning_curve.py: next-action hit@1 rises with history instead of levelling off)."""
        total = sum(max(b, 0.0) for b in bases) or 1.0
        prior = [max(b, 0.0) / total for b in bases]
        measure = "quality" if self.params["objective"] == "outcome" else "acceptance"
        strength = float(self.params["evidence_prior"])

        def posterior(reason: str) -> list[float]:
            counts = [weight * self.stats.taken(kind, reason, k, measure) if k else 0.0 for k in keys]
            seen = sum(counts)
            return [(c + strength * p) / (seen + strength) for c, p in zip(counts, prior)]

        return mix_over_reasons(probs, posterior).tolist()

    def rerank(self, kind: str, candidates: Sequence[Any], context: dict | None = None) -> list:
        """The same candidates, best first (ties keep assist's order)."""
        candidates = list(candidates)
        if len(candidates) < 2 or not self.params["weights"].get(kind) or kind not in self.stats.cells:
            return candidates
        final = self.scores(kind, candidates, context)
        return [candidates[i] for i in sorted(range(len(candidates)), key=lambda i: (-final[i], i))]


class LiveRanker(Ranker):
    """A workspace's current version plus the feedback joined since, refreshed at most every RELOAD_SECONDS."""

    def __init__(self, settings, tenant_slug: str):
        super().__init__()
        self.settings, self.tenant_slug = settings, tenant_slug
        self._lock = threading.Lock()
        self._checked = 0.0
        self._tenant_id: int | None = None
        self._seen: set[int] = set()
        self._high = 0
        self._load_version(store.current_version(settings, tenant_slug))

    def _load_version(self, version: str | None) -> None:
        snapshot = store.load_snapshot(self.settings, self.tenant_slug, version) if version else None
        if snapshot is None:
            self.stats, self.params, self.version, watermark = SuggestionStats(), merged_params(None), None, 0
        else:
            self.stats, self.params, self.version = snapshot.stats.copy(), merged_params(snapshot.params), version
            watermark = snapshot.watermark
        self._seen, self._high, self._watermark = set(), watermark, watermark

    def refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < RELOAD_SECONDS:
            return
        with self._lock:
            if not force and now - self._checked < RELOAD_SECONDS:
                return
            self._checked = now
            version = store.current_version(self.settings, self.tenant_slug)
            if version != self.version:
                self._load_version(version)
            try:
                self._read_new_rows()
            except Exception:  # noqa: BLE001 - a database hiccup must never break live suggestions
                import logging

                logging.getLogger("deskmate.learning").exception("learning: could not read new feedback rows")

    def _read_new_rows(self) -> None:
        from deskmate.learning.feedback import evidence_of
        from deskmate.learning.models import FeedbackOutcome

        factory = store.sessionmaker_for(self.settings)
        with factory() as session:
            if self._tenant_id is None:
                self._tenant_id = store.tenant_id_of(session, self.tenant_slug)
                if self._tenant_id is None:
                    return
            floor = max(self._watermark, self._high - RECENT_WINDOW)
            rows = session.execute(
                select(FeedbackOutcome.id, FeedbackOutcome.kind, FeedbackOutcome.reason, FeedbackOutcome.key,
                       FeedbackOutcome.accepted, FeedbackOutcome.reward, FeedbackOutcome.dismissed,
                       FeedbackOutcome.rating)
                .where(FeedbackOutcome.tenant_id == self._tenant_id, FeedbackOutcome.id > floor)
                .order_by(FeedbackOutcome.id)).all()
        for row in rows:
            if row.id in self._seen:
                continue
            self._seen.add(row.id)
            self._high = max(self._high, row.id)
            self.stats.add(evidence_of(row))

    def rerank(self, kind: str, candidates: Sequence[Any], context: dict | None = None) -> list:
        self.refresh()
        return super().rerank(kind, candidates, context)


def _key(settings, tenant_slug: str) -> tuple[str, str, str]:
    return str(Path(settings.models_dir).resolve()), settings.database_url, tenant_slug


class _LiveRankers:
    """The live ranker object per workspace (a model version plus feedback joined since; not a model store)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._rankers: dict[tuple[str, str, str], LiveRanker] = {}
        self.overrides: dict[tuple[str, str, str], Ranker] = {}

    def get(self, settings, tenant_slug: str) -> Ranker:
        key = _key(settings, tenant_slug)
        override = self.overrides.get(key)
        if override is not None:
            return override
        with self._lock:
            ranker = self._rankers.get(key)
            if ranker is None:
                ranker = self._rankers[key] = LiveRanker(settings, tenant_slug)
        return ranker

    def touch(self, settings, tenant_slug: str) -> None:
        """New feedback was joined in this process: read it on the next rerank, not in RELOAD_SECONDS."""
        ranker = self._rankers.get(_key(settings, tenant_slug))
        if ranker is not None:
            ranker._checked = 0.0

    def forget(self) -> None:
        with self._lock:
            self._rankers.clear()


registry = _LiveRankers()


def load_ranker(settings, tenant_slug: str) -> Ranker:
    """The workspace's live ranker (cached per process; cheap to call on every message)."""
    ranker = registry.get(settings, tenant_slug)
    if isinstance(ranker, LiveRanker):
        ranker.refresh()
    return ranker


@contextmanager
def overriding(settings, tenant_slug: str, ranker: Ranker):
    """Within the block, `load_ranker` answers `ranker` for this workspace: how a replay scores a
    candidate version through the unchanged live pipeline."""
    key = _key(settings, tenant_slug)
    previous = registry.overrides.get(key)
    registry.overrides[key] = ranker
    try:
        yield ranker
    finally:
        if previous is None:
            registry.overrides.pop(key, None)
        else:
            registry.overrides[key] = previous
