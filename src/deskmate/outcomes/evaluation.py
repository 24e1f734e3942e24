"""How well outcome scoring matches what really happened, on the demo workspace whose generator knows the truth.

Resolution is measured on a time-ordered hold-out: the model is fitted on the earlier
conversations' labels and judged on the latest ones, as it would be used. Policy adherence
has nothing to fit, so it is judged on the same held-out part; a violation (a step skipped
or taken out of order) is the positive class for precision and recall.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from sqlalchemy import select

from deskmate.conversations.models import Conversation
from deskmate.db import session_scope
from deskmate.errors import InvalidInput
from deskmate.outcomes.resolution import OUTCOMES, ResolutionModel, rule_estimates
from deskmate.outcomes.scoring import Scorer
from deskmate.outcomes.service import (
    fit_resolution_model,
    labelled_conversation_ids,
    reopen_map,
    scoring_transcripts,
)
from deskmate.outcomes.transcript import Transcript

BATCH = 500


def load_truth(settings) -> dict:
    """Per conversation (by external id) what really happened, from the last `deskmate demo` build."""
    from deskmate.demo.truth import load_truth as load_demo_truth

    return load_demo_truth(settings)


def _auc(y_true: list[bool], scores: list[float]) -> float | None:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y_true, scores)) if 0 < sum(y_true) < len(y_true) else None


def calibration_error(y_true: list[bool], p: list[float], bins: int = 10) -> float:
    """Expected calibration error of P(resolved): how far stated probabilities sit from observed rates."""
    y, p = np.asarray(y_true, float), np.asarray(p, float)
    edges = np.minimum((p * bins).astype(int), bins - 1)
    return float(sum(abs(y[edges == b].mean() - p[edges == b].mean()) * (edges == b).mean()
                     for b in range(bins) if (edges == b).any()))


def _precision_recall(predicted: list[bool], actual: list[bool]) -> tuple[float | None, float | None]:
    tp = sum(p and a for p, a in zip(predicted, actual))
    flagged, real = sum(predicted), sum(actual)
    return (tp / flagged if flagged else None), (tp / real if real else None)


def without_last_words(t: Transcript, n: int = 2) -> Transcript:
    """The conversation minus its last `n` text messages: how much the model leans on closing words."""
    cut = {x.seq for x in t.text_turns[-n:]}
    return replace(t, turns=[x for x in t.turns if x.seq not in cut])


def evaluate_workspace(sessionmaker, *, settings, tenant_id: int, holdout: float = 0.3, truth: dict | None = None,
                       model: ResolutionModel | None = None) -> dict:
    truth = truth if truth is not None else load_truth(settings)["conversations"]
    with session_scope(sessionmaker) as session:
        ids = labelled_conversation_ids(session, tenant_id=tenant_id)
        external = {cid: ext for cid, ext in session.execute(
            select(Conversation.id, Conversation.external_id).where(Conversation.tenant_id == tenant_id))}
        ids = [i for i in ids if external.get(i) in truth]
        stored = set(session.scalars(select(Conversation.external_id).where(Conversation.tenant_id == tenant_id)))
        if len(ids) < 50:
            raise InvalidInput(f"only {len(ids)} labelled conversations match the truth file; is this the demo workspace?")
        cut = int(len(ids) * (1 - holdout))
        train, test = ids[:cut], ids[cut:]
        scorer = Scorer.for_tenant(session, settings=settings, tenant_id=tenant_id, use_saved_model=False)
        scorer.model = fit_resolution_model(session, scorer=scorer, conversation_ids=train, model=model)
        if scorer.model is None:
            raise InvalidInput("the earlier part of the history is too small or one-sided to fit a resolution model")
        reopened = reopen_map(session, tenant_id=tenant_id)
        rows = []
        for start in range(0, len(test), BATCH):
            transcripts = scoring_transcripts(session, tenant_id=tenant_id, conversation_ids=test[start:start + BATCH])
            rules = rule_estimates(scorer.samples(transcripts))
            blind = scorer.estimate([without_last_words(t) for t in transcripts])
            for t, result, rule, early in zip(transcripts, scorer.score_many(transcripts, reopened), rules, blind):
                rows.append((truth[external[t.conversation_id]], result.values, rule, early))
    true_outcome = [tr["outcome"] for tr, *_ in rows]
    predicted = [v["predicted_outcome"] for _, v, *_ in rows]
    is_resolved = [o == "resolved" for o in true_outcome]
    p_resolved = [v["outcome_probabilities"]["resolved"] for _, v, *_ in rows]
    ovr = [_auc([o == c for o in true_outcome], [v["outcome_probabilities"][c] for _, v, *_ in rows]) for c in OUTCOMES]
    violated = [not tr["policy_ok"] for tr, *_ in rows]
    flagged = [v["policy_adherence"] == "fail" for _, v, *_ in rows]
    precision, recall = _precision_recall(flagged, violated)
    # A planned reopen counts only when the returning conversation is in the store (live ones are replayed later).
    was_reopened = [any(x in stored for x in tr.get("reopened_by") or []) for tr, *_ in rows]
    reopen_p, reopen_r = _precision_recall([v["reopened"] for _, v, *_ in rows], was_reopened)
    mismatched = [external[v["conversation_id"]] for (tr, v, *_), f, a in zip(rows, flagged, violated) if f != a]
    return {
        "train conversations": len(train), "held-out conversations": len(test),
        "resolution accuracy (4 outcomes)": float(np.mean([a == b for a, b in zip(true_outcome, predicted)])),
        "resolved-vs-not AUC": _auc(is_resolved, p_resolved),
        "macro one-vs-rest AUC": float(np.mean([a for a in ovr if a is not None])),
        "P(resolved) calibration error": calibration_error(is_resolved, p_resolved),
        "rules only: accuracy": float(np.mean([r.outcome == o for (_, _, r, _), o in zip(rows, true_outcome)])),
        "rules only: resolved-vs-not AUC": _auc(is_resolved, [r.probabilities["resolved"] for _, _, r, _ in rows]),
        "without the last 2 messages: AUC": _auc(is_resolved, [e.probabilities.get("resolved", 0.0) for *_, e in rows]),
        "policy violations (truth)": sum(violated), "policy violations flagged": sum(flagged),
        "policy-adherence precision": precision, "policy-adherence recall": recall,
        "reopen precision": reopen_p, "reopen recall": reopen_r,
        "model": scorer.model.version,
        "policy mismatches": mismatched[:20],
    }
