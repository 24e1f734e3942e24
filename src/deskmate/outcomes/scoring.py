"""Score one conversation: outcome, confidence, scorecard and summary, from its transcript alone.

`Scorer` holds what a batch of one tenant's conversations share (procedures, articles, the
resolution model, the tenant's scorecard) so bulk scoring pays for it once. It does no
writes: `deskmate.outcomes.service` stores what it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from deskmate.accounts.models import Tenant
from deskmate.errors import NotFound
from deskmate.knowledge.models import Article, Procedure
from deskmate.outcomes.confidence import (
    customer_effort,
    resolution_quality,
    sentiment_trajectory,
)
from deskmate.outcomes.context import ScoringContext
from deskmate.outcomes.resolution import (
    RULES_VERSION,
    ResolutionEstimate,
    ResolutionModel,
    ResolutionSample,
    load_workspace_model,
    make_sample,
    rule_estimates,
)
from deskmate.outcomes.scorecard import score_criteria, scorecard_config
from deskmate.outcomes.summary import extractive_text, post_contact_summary
from deskmate.outcomes.transcript import Transcript


@dataclass
class ScoreResult:
    """One conversation's scores, as the columns of `ConversationScore`."""

    values: dict


def linked_article_refs(t: Transcript) -> list[int | str]:
    """Articles the conversation records as used: ids (int) or external ids (str), from assist or import
    attributes or an action's values."""
    refs: list = []
    for key in ("article_id", "articles_used", "article_ids", "knowledge_articles"):
        v = t.attributes.get(key)
        refs.extend(v if isinstance(v, list) else [v])
    refs.extend(a.values.get("article_id") for a in t.action_turns)
    out: list[int | str] = []
    for v in refs:
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, int) or (isinstance(v, str) and v.isdigit()):
            out.append(int(v))
        elif isinstance(v, str) and v.strip():
            out.append(v.strip())
    return list(dict.fromkeys(out))


class Scorer:
    def __init__(self, *, tenant_id: int, tenant_settings: dict, procedures: dict[str, tuple[list[str], int | None]],
                 article_loader: Callable[[Sequence[int | str]], dict[int | str, tuple[str, str]]],
                 model: ResolutionModel | None = None,
                 infer_reasons: Callable[[list[str]], list[str | None]] | None = None):
        scorecard_config(tenant_settings)  # a bad tenant configuration fails before any work
        self.tenant_id = tenant_id
        self.tenant_settings = tenant_settings
        self.procedures = procedures
        self.article_loader = article_loader
        self.model = model
        self.infer_reasons = infer_reasons
        self._articles: dict[int, tuple[str, str]] = {}

    @classmethod
    def for_tenant(cls, session: Session, *, settings, tenant_id: int, model: ResolutionModel | None = None,
                   use_saved_model: bool = True) -> Scorer:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound(f"no workspace {tenant_id}")
        procedures = {
            p.reason: (list(p.actions or []), p.article_id)
            for p in session.scalars(select(Procedure).where(Procedure.tenant_id == tenant_id))
        }

        def load_articles(refs: Sequence[int | str]) -> dict[int | str, tuple[str, str]]:
            ids = [r for r in refs if isinstance(r, int)]
            external = [r for r in refs if isinstance(r, str)]
            rows = session.execute(select(Article.id, Article.external_id, Article.title, Article.body).where(
                Article.tenant_id == tenant_id, or_(Article.id.in_(ids), Article.external_id.in_(external))))
            found: dict[int | str, tuple[str, str]] = {}
            for r in rows:
                found[r.id] = found[r.external_id] = (r.title, r.body)
            return found

        if model is None and use_saved_model:
            model = load_workspace_model(settings.models_dir, tenant.slug)
        return cls(tenant_id=tenant_id, tenant_settings=dict(tenant.settings or {}), procedures=procedures,
                   article_loader=load_articles, model=model,
                   infer_reasons=reason_inference(settings, tenant.slug))

    @property
    def model_version(self) -> str:
        return self.model.version if self.model is not None else RULES_VERSION

    def _articles_for(self, t: Transcript) -> list[tuple[str, str]]:
        refs = linked_article_refs(t)
        proc = self.procedures.get(t.reason or "")
        if proc and proc[1]:
            refs.append(proc[1])
        missing = [r for r in refs if r not in self._articles]
        if missing:
            found = self.article_loader(missing)
            self._articles.update({r: found.get(r) for r in missing})  # remember misses too
        return list(dict.fromkeys(self._articles[r] for r in refs if self._articles.get(r)))

    def samples(self, transcripts: Sequence[Transcript]) -> list[ResolutionSample]:
        return [make_sample(t, self.procedures.get(t.reason or "", ([], None))[0]) for t in transcripts]

    def estimate(self, transcripts: Sequence[Transcript]) -> list[ResolutionEstimate]:
        samples = self.samples(transcripts)
        if self.model is not None:
            return self.model.estimates(samples)
        return rule_estimates(samples)

    def score_many(self, transcripts: Sequence[Transcript], reopened: dict[int, int] | None = None) -> list[ScoreResult]:
        """Score a batch; `reopened` maps a conversation id to the later conversation that reopened it."""
        reopened = reopened or {}
        reason_source = {id(t): "label" for t in transcripts if t.reason}
        unlabelled = [t for t in transcripts if not t.reason and t.customer_turns]
        if unlabelled and self.infer_reasons is not None:
            for t, guess in zip(unlabelled, self.infer_reasons([" ".join(x.text for x in t.customer_turns[:2]) for t in unlabelled])):
                if guess:
                    t.reason, reason_source[id(t)] = guess, "intent model"
        estimates = self.estimate(transcripts)
        return [self._score(t, est, reopened.get(t.conversation_id), reason_source.get(id(t), "label"))
                for t, est in zip(transcripts, estimates)]

    def _score(self, t: Transcript, est: ResolutionEstimate, reopened_by: int | None, reason_source: str) -> ScoreResult:
        trajectory = sentiment_trajectory(t)
        effort = customer_effort(t)
        quality, parts = resolution_quality(p_resolved=est.probabilities.get("resolved", 0.0),
                                            reopened=reopened_by is not None, trajectory=trajectory, effort=effort)
        required, _ = self.procedures.get(t.reason or "", ([], None))
        ctx = ScoringContext(transcript=t, required_actions=required, articles=self._articles_for(t),
                             tenant_settings=self.tenant_settings, predicted_outcome=est.outcome)
        score, criteria = score_criteria(ctx)
        policy = next((c.result for c in criteria if c.key == "policy_adherence"), None)
        summary = post_contact_summary(t, reason=t.reason, outcome=est.outcome, probability=est.probability,
                                       reason_source=reason_source)
        return ScoreResult({
            "tenant_id": t.tenant_id, "conversation_id": t.conversation_id, "agent_id": t.agent_id, "reason": t.reason,
            "started_at": t.started_at, "handle_seconds": t.handle_seconds,
            "predicted_outcome": est.outcome, "outcome_probability": round(est.probability, 4),
            "outcome_probabilities": {k: round(v, 4) for k, v in est.probabilities.items()},
            "resolution_source": est.source, "reopened": reopened_by is not None, "reopened_by": reopened_by,
            "sentiment_start": trajectory.start, "sentiment_end": trajectory.end, "sentiment_shift": trajectory.shift,
            "sentiment_lowest": trajectory.lowest,
            "effort": effort.as_dict() | {"lowest_seq": trajectory.lowest_seq, "falling": trajectory.falling},
            "resolution_quality": quality, "resolution_quality_parts": parts,
            "quality_score": score, "policy_adherence": policy,
            "criteria": [c.model_dump() for c in criteria],
            "summary": summary | {"text_source": "extractive"}, "summary_text": extractive_text(summary),
            "model_version": est.version,
        })


def generation_backend(settings) -> Callable[[str, str], str] | None:
    """(system, user) -> text through deskmate.assist.generation, when a backend is configured."""
    if not getattr(settings, "generation_url", None):
        return None
    from deskmate.assist.generation import GenerationClient

    client = GenerationClient.from_settings(settings)
    return lambda system, user: client.complete(system, user, max_tokens=200)


def reason_inference(settings, tenant_slug: str) -> Callable[[list[str]], list[str | None]] | None:
    """Guess a missing reason for contact with the workspace's intent model (None when it has none)."""

    def infer(texts: list[str]) -> list[str | None]:
        try:
            from deskmate.nlp.intent import load_workspace_intent_model
        except ImportError:
            return [None] * len(texts)
        model = load_workspace_intent_model(settings, tenant_slug)
        if model is None:
            return [None] * len(texts)
        return [p.label for p in model.predict_with_confidence(texts)]

    return infer
