"""The batch job: rejoin all feedback, refit the ranker, replay it against the current one, promote if not worse.

1. Every closed conversation's feedback is joined again (outcomes may have been rescored).
2. History splits in time order like assist's replay harness: the ranker's evidence comes only
   from the earlier part; the held-out part is replayed.
3. The current version's parameters are replayed on that evidence (the baseline), recording
   every candidate list; each kind's weight is then chosen on the first half of the held-out
   conversations by re-ranking the recorded lists offline (no hand tuning).
4. The candidate is replayed; `versions.decide` promotes it only if no gated figure is worse.
5. The saved version holds the parameters and the stats over *all* joined rows, so a promoted
   version starts from everything known; online updates continue from its watermark.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deskmate.db import session_scope
from deskmate.errors import InvalidInput
from deskmate.learning import store, versions
from deskmate.learning.evaluation import offline_figures, replay_with, truths_for
from deskmate.learning.feedback import evidence_of, join_history
from deskmate.learning.models import FeedbackOutcome, ModelVersion
from deskmate.learning.ranking import Ranker, merged_params
from deskmate.learning.stats import SuggestionStats

WEIGHT_GRID = (0.0, 0.1, 0.2, 0.4, 0.8, 1.6)
FIGURE_OF = {"kb": "knowledge_hit@3", "reply": "reply_recall@3", "nba": "next_action_hit@1"}


@dataclass
class RetrainResult:
    version: ModelVersion
    promoted: bool
    baseline: dict
    scores: dict
    joined_rows: int


def build_stats(session: Session, *, tenant_id: int, conversation_ids: list[int] | None = None) -> tuple[SuggestionStats, int]:
    """Stats over the joined rows (of these conversations only, when given) and the highest row id read."""
    stats, high = SuggestionStats(), 0
    base = select(FeedbackOutcome.id, FeedbackOutcome.kind, FeedbackOutcome.reason, FeedbackOutcome.key,
                  FeedbackOutcome.accepted, FeedbackOutcome.reward, FeedbackOutcome.dismissed, FeedbackOutcome.rating
                  ).where(FeedbackOutcome.tenant_id == tenant_id)
    chunks = [None] if conversation_ids is None else [conversation_ids[i:i + 500] for i in range(0, len(conversation_ids), 500)]
    for chunk in chunks:
        stmt = base if chunk is None else base.where(FeedbackOutcome.conversation_id.in_(chunk))
        for row in session.execute(stmt):
            stats.add(evidence_of(row))
            high = max(high, row.id)
    return stats, high


def fit_weights(moments, truths, stats: SuggestionStats, params: dict, encoder, conversation_ids: set[int]) -> dict:
    """Each kind's weight that maximises its offline replay figure on the given conversations (ties: the
    current weight, then the smaller one)."""
    fitting = [m for m in moments if m.conversation_id in conversation_ids]
    weights = dict(params["weights"])
    for kind, figure in FIGURE_OF.items():
        best, best_value = weights.get(kind, 0.0), None
        for w in sorted(set(WEIGHT_GRID) | {weights.get(kind, 0.0)}, key=lambda w: (w != weights.get(kind, 0.0), w)):
            trial = Ranker(stats, {**params, "weights": {**weights, kind: w}})
            value = offline_figures([m for m in fitting if m.kind == kind], truths, trial, encoder).get(figure)
            if value is not None and (best_value is None or value > best_value + 1e-9):
                best, best_value = w, value
        weights[kind] = best
    return {**params, "weights": weights}


def retrain(settings, sessionmaker, *, tenant_slug: str, holdout: float = 0.2, limit: int | None = None,
            params: dict | None = None, rejoin: bool = True, progress=None) -> RetrainResult:
    """Run the batch job (see the module docstring); `params` skips the fit and replays exactly these."""
    from deskmate.accounts.service import require_tenant
    from deskmate.assist.history import history_ids, load_conversations
    from deskmate.assist.service import load_procedures
    from deskmate.nlp.encoder import get_encoder

    if not 0.0 < holdout < 1.0:
        raise InvalidInput("holdout must be between 0 and 1 (the share of history replayed)")
    with session_scope(sessionmaker) as session:
        tenant = require_tenant(session, tenant_slug)
        joined = join_history(session, tenant_id=tenant.id, settings=settings, tenant_slug=tenant_slug,
                              missing_only=not rejoin)
    with session_scope(sessionmaker) as session:
        ids = history_ids(session, tenant.id)
        if len(ids) < 10:
            raise InvalidInput(f"workspace {tenant_slug!r} has {len(ids)} closed conversations; a retrain needs at least 10")
        split = int(round(len(ids) * (1 - holdout)))
        train_ids, test_ids = ids[:split], ids[split:][: limit or None]
        train_stats, _ = build_stats(session, tenant_id=tenant.id, conversation_ids=train_ids)
        test = load_conversations(session, tenant.id, test_ids)
        truths = truths_for(session, tenant_id=tenant.id, conversations=test, procedures=load_procedures(session, tenant.id))
        live = store.load_snapshot(settings, tenant_slug, store.current_version(settings, tenant_slug) or "")
    current_params = merged_params(live.params if live else None)

    baseline_report, moments = replay_with(settings, sessionmaker, tenant_slug=tenant_slug,
                                           ranker=Ranker(train_stats, current_params), holdout=holdout, limit=limit,
                                           progress=progress)
    encoder = get_encoder(settings)
    if params is None:
        fitting = set(test_ids[: max(1, math.ceil(len(test_ids) / 2))])
        candidate_params = fit_weights(moments, truths, train_stats, current_params, encoder, fitting)
    else:
        candidate_params = merged_params(params)
    if candidate_params == current_params and params is None:
        candidate_report = baseline_report
    else:
        candidate_report, _ = replay_with(settings, sessionmaker, tenant_slug=tenant_slug,
                                          ranker=Ranker(train_stats, candidate_params), holdout=holdout, limit=limit,
                                          progress=progress)
    linked = offline_figures(moments, truths, Ranker(train_stats, candidate_params), encoder, resolution_linked=True)
    scores = {**candidate_report.figures, **{f"resolution_linked_{k}": v for k, v in linked.items() if not k.startswith("n_")}}
    promote_it, decision = versions.decide(candidate_report.figures, baseline_report.figures)

    with session_scope(sessionmaker) as session:
        tenant = require_tenant(session, tenant_slug)
        full_stats, watermark = build_stats(session, tenant_id=tenant.id)
        snapshot = store.Snapshot(store.new_version_name(), candidate_params, full_stats, watermark,
                                  {"holdout": holdout, "trained_on": len(train_ids), "replayed": len(test_ids),
                                   "joined_rows": joined})
        row = versions.record(session, settings=settings, tenant=tenant, snapshot=snapshot, scores=scores,
                              baseline={**baseline_report.figures, "version": live.version if live else None},
                              promote_it=promote_it, decision=decision)
        session.expunge(row)
    return RetrainResult(row, promote_it, baseline_report.figures, scores, joined)


def feedback_row_count(session: Session, *, tenant_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(FeedbackOutcome)
                              .where(FeedbackOutcome.tenant_id == tenant_id)) or 0)
