"""Replay: train on the earlier part of history, replay the rest message by message as if live, score.

For each held-out conversation (its reason hidden from assist), every turn goes through the same
`AssistEngine.process` as a live message; before each agent turn, the update assist had just
shown is compared with what the agent really did:

- next-action hit@1 / hit@3 on every agent action;
- reply recall@1 / @3: the agent's real next reply (as a template) near-identical to a suggestion,
  and ABCD's utterance ranking: the real reply ranked among it plus 99 replies sampled from
  other held-out conversations, by the same response-selection score;
- knowledge hit@3 where the reason's procedure links an article (after the customer's 2nd message);
- intent accuracy after the customer's 1st, 2nd, 3rd message;
- alert precision per kind, judged by what the workspace records (outcome, a reopen, CSAT), or by a
  caller's ground truth (`truth`, e.g. a generated demo's); "not judged" when nothing says.

The replay cannot flatter: in the ranking a tie is a miss (a model that scores every candidate
alike ranks nothing first), and every figure carries the baselines of `deskmate.assist.baselines`
asked at the same moments (`ReplayReport.baselines`).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from deskmate.assist.baselines import INTENT_TURNS, Baselines, customer_texts, rank_of_real
from deskmate.assist.engine import AssistEngine, intent_text
from deskmate.assist.next_action import context_blocks
from deskmate.assist.history import history_ids, load_conversations
from deskmate.conversations.transcript import Transcript
from deskmate.assist.pipeline import build_models, encode_turns, make_turn
from deskmate.assist.replies import dialogue_position
from deskmate.assist.service import load_procedures
from deskmate.assist.templating import to_template
from deskmate.db import session_scope
from deskmate.errors import InvalidInput

SAME_REPLY = 0.9  # cosine between templates at which a suggestion counts as the reply the agent sent
MOOD_RANK = {"angry": 0, "frustrated": 1, "neutral": 2, "friendly": 3}
TROUBLE = ("escalated", "unresolved", "abandoned")
LOW_CSAT = 2  # on a 1-5 scale, at or below: the customer was not helped
FIGURES = {"next_action@1": "next_action_hit@1", "next_action@3": "next_action_hit@3",
           "reply@1": "reply_recall@1", "reply@3": "reply_recall@3",
           "ranking@1": "reply_recall@1_of_100", "ranking@3": "reply_recall@3_of_100",
           "knowledge@3": "knowledge_hit@3"}


@dataclass
class ReplayReport:
    tenant: str
    holdout: float
    trained_on: int
    replayed: int
    figures: dict[str, float | None] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    baselines: dict[str, dict[str, float | None]] = field(default_factory=dict)  # figure -> baseline -> value
    alerts: dict[str, dict] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)
    model_version: str | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"tenant": self.tenant, "holdout": self.holdout, "trained_on": self.trained_on, "replayed": self.replayed,
                "figures": self.figures, "counts": self.counts, "baselines": self.baselines, "alerts": self.alerts,
                "latency_ms": self.latency_ms, "model_version": self.model_version, "notes": self.notes}


def fit_intent_model(settings, conversations: list[Transcript]):
    """The workspace intent model's own recipe (deskmate.nlp), fitted on the training slice only."""
    try:
        from deskmate.nlp.intent import IntentClassifier, training_examples
        from deskmate.nlp.intent_store import drop_rare_intents
    except ImportError:
        return None
    texts, labels = training_examples(conversations)
    texts, labels, _ = drop_rare_intents(texts, labels)
    if len(set(labels)) < 2:
        return None
    return IntentClassifier(encoder=settings.encoder, models_dir=settings.models_dir).fit(texts, labels)


def _workspace_judgement(session, tenant_id: int, conversations: list[Transcript]) -> dict[int, dict]:
    """What the workspace itself records about how each conversation went: its outcome, whether the
    customer came back on the same reason within a week (a reopen), and a CSAT in its attributes."""
    from sqlalchemy import select

    from deskmate.conversations.models import Conversation

    ids = [c.id for c in conversations]
    csat = {}
    for start in range(0, len(ids), 500):
        for cid, attrs in session.execute(select(Conversation.id, Conversation.attributes)
                                          .where(Conversation.id.in_(ids[start:start + 500]))):
            value = (attrs or {}).get("csat")
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                csat[cid] = float(value)
    try:
        from deskmate.outcomes.service import reopen_map

        reopened = set(reopen_map(session, tenant_id=tenant_id))
    except ImportError:  # pragma: no cover - the outcomes domain ships it
        reopened = set()
    return {c.id: {"outcome": c.outcome, "reopened": c.id in reopened, "csat": csat.get(c.id)} for c in conversations}


def _went_badly(facts: dict) -> bool | None:
    """True / False when the workspace says how the conversation went, None when it says nothing."""
    if facts.get("reopened") or facts.get("outcome") in TROUBLE or (facts.get("csat") is not None and facts["csat"] <= LOW_CSAT):
        return True
    if facts.get("outcome") == "resolved" or facts.get("csat") is not None:
        return False
    return None


def _alert_correct(kind: str, facts: dict, truth: dict | None) -> bool | None:
    if kind == "long_silence":
        return None  # a measured fact, not a prediction: no precision to report
    if kind == "escalation_risk":
        return None if facts.get("outcome") is None else facts["outcome"] == "escalated"
    if truth is None:
        return _went_badly(facts)
    if kind == "repeating":
        return (truth.get("repeats") or 0) > 0
    if kind == "policy_step_skipped":
        return truth.get("policy_ok") is False or bool(truth.get("skipped")) or bool(truth.get("out_of_order"))
    if kind == "sentiment_falling":
        start, end = MOOD_RANK.get(truth.get("start_mood"), 2), MOOD_RANK.get(truth.get("end_mood"), 2)
        return end < start or end <= 1
    return _went_badly(facts)


def run_replay(settings, sessionmaker, *, tenant_slug: str, holdout: float = 0.2, limit: int | None = None,
               distractors: int = 99, seed: int = 0, progress=None, truth: dict | None = None) -> ReplayReport:
    """`truth`: optional ground truth per conversation external id (a generated demo's), which alerts
    are then judged by; without it they are judged by what the workspace records, or not at all."""
    from deskmate.accounts.service import require_tenant
    from deskmate.assist.models import Passage
    from deskmate.assist.retrieval import rebuild_passages
    from deskmate.nlp.encoder import get_encoder
    from sqlalchemy import func, select

    if not 0.0 < holdout < 1.0:
        raise InvalidInput("--holdout must be between 0 and 1 (the share of history replayed)")
    encoder = get_encoder(settings)
    with session_scope(sessionmaker) as session:
        tenant = require_tenant(session, tenant_slug)
        tenant_id, tenant_settings = tenant.id, dict(tenant.settings or {})
        ids = history_ids(session, tenant_id)
        if len(ids) < 10:
            raise InvalidInput(f"workspace {tenant_slug!r} has {len(ids)} closed conversations; replay needs at least 10")
        split = int(round(len(ids) * (1 - holdout)))
        train = load_conversations(session, tenant_id, ids[:split])
        test = load_conversations(session, tenant_id, ids[split:][: limit or None])
        if not session.scalar(select(func.count()).select_from(Passage).where(Passage.tenant_id == tenant_id)):
            rebuild_passages(session, tenant_id, encoder)  # derived from the articles: safe to build here
        judgement = _workspace_judgement(session, tenant_id, test)
    with session_scope(sessionmaker) as session:
        models = build_models(session, tenant_id=tenant_id, conversations=train, encoder=encoder, progress=progress,
                              version="replay")
        procedures = load_procedures(session, tenant_id)
    notes = []
    try:
        intent_model = fit_intent_model(settings, train)
    except Exception as exc:  # noqa: BLE001 - the other measures do not depend on it; say why it is missing
        intent_model = None
        notes.append(f"intent model could not be trained ({type(exc).__name__}: {exc}); intent not scored")
    engine = AssistEngine(settings, tenant_id=tenant_id, tenant_slug=tenant_slug, tenant_settings=tenant_settings,
                          models=models, intent_model=intent_model, encoder=encoder, procedures=procedures)
    report = ReplayReport(tenant_slug, holdout, len(train), len(test), model_version=models.version, notes=notes)
    if intent_model is None and not notes:
        report.notes.append("no intent model (deskmate.nlp.intent unavailable or one reason only): intent not scored")
    baselines = Baselines(train, encode_turns(train, encoder), encoder.dim, _reasons(engine, train))
    scorer = _Scorer(engine, test, baselines, judgement, truth or {}, distractors, seed)
    with session_scope(sessionmaker) as session:
        advance = _advance(progress, "replay: held-out conversations", len(test))
        for conv in test:
            scorer.replay(session, conv)
            advance()
        session.rollback()  # replay never writes
    scorer.fill(report)
    if not report.counts.get("alert_precision"):
        report.notes.append("alerts not judged: the held-out conversations carry no outcome, reopen or CSAT "
                            "(and no ground truth was given)" if report.alerts else "no alert fired")
    return report


def _reasons(engine: AssistEngine, conversations: list[Transcript]) -> list[str | None]:
    """Each conversation's reason: the one it was given, else the intent model's reading of its opening."""
    reasons = [c.reason for c in conversations]
    todo = [i for i, r in enumerate(reasons) if not r and customer_texts(conversations[i])]
    if engine.intent_model is not None and todo:
        proba = engine.intent_model.predict_proba([intent_text(customer_texts(conversations[i])) for i in todo])
        classes = list(engine.intent_model.classes_)
        for i, row in zip(todo, proba):
            reasons[i] = str(classes[int(np.argmax(row))])
    return reasons


def _advance(progress, description: str, total: int):
    if progress is None or progress is True or progress is False:
        return lambda: None
    task = progress.add_task(description, total=total)
    return lambda: progress.advance(task)


class _Scorer:
    def __init__(self, engine: AssistEngine, test: list[Transcript], baselines: Baselines, judgement: dict,
                 truth: dict, distractors: int, seed: int):
        self.engine, self.baselines, self.judgement, self.truth = engine, baselines, judgement, truth
        self.rng = random.Random(seed)
        self.hits: dict[str, list[int]] = defaultdict(list)
        self.base_hits: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        self.intent_by_turn: dict[int, list[int]] = defaultdict(list)
        self.alert_outcomes: dict[str, list[bool]] = defaultdict(list)
        self.alert_fired: Counter = Counter()
        self.latencies: list[float] = []
        self.distractors = distractors
        # The pool distractors are drawn from: the replies of the held-out conversations and the training
        # bank, as templates (ABCD samples its 99 from the whole corpus).
        held_out = sorted({to_template(t.text, c.customer, c.agent_name) for c in test for t in c.turns
                           if t.role == "agent" and t.kind == "text" and t.text.strip()})
        bank = engine.models.replies.templates_ if engine.models is not None else []
        seen = set(held_out)
        pool = held_out + [t for t in bank if t not in seen]
        self.pool_templates = pool
        self.pool_vectors = engine.encoder.encode(pool) if pool else np.zeros((0, engine.encoder.dim), dtype=np.float32)
        self.pool_index = {t: i for i, t in enumerate(pool)}

    def _vector(self, template: str) -> np.ndarray:
        i = self.pool_index.get(template)
        return self.pool_vectors[i] if i is not None else self.engine.encoder.encode([template])[0]

    def replay(self, session, conv: Transcript) -> None:
        engine = self.engine
        state = engine.start(session, conversation_id=conv.id, customer_id=conv.customer_id, agent_name=conv.agent_name,
                             reason=None, started_at=conv.started_at, agent_id=conv.agent_id)
        article = engine.procedures.get(conv.reason, (None, None, None))[2] if conv.reason else None
        previous, customer_turns, fired = None, 0, {}
        knowledge_scored = False
        for past in conv.turns:
            turn = make_turn(past, {})
            if previous is not None and past.role == "agent":
                if past.kind == "action" and past.action:
                    self._score_action(state, previous, past.action)
                elif past.kind == "text" and past.text.strip():
                    self._score_reply(state, previous, past, conv)
            update = engine.process(session, state, turn)
            self.latencies.append(update.timings.get("total", 0.0))
            for alert in update.alerts:
                fired.setdefault(alert.id, alert.kind)
            if past.role == "customer" and past.kind == "text":
                customer_turns += 1
                if customer_turns <= INTENT_TURNS and conv.reason:
                    self._score_intent(customer_turns, update, conv)
                if customer_turns == 2 and article is not None:
                    self.hits["knowledge@3"].append(int(article in [k.article_id for k in update.knowledge[:3]]))
                    knowledge_scored = True
            previous = update
        if article is not None and not knowledge_scored and previous is not None:
            self.hits["knowledge@3"].append(int(article in [k.article_id for k in previous.knowledge[:3]]))
        if conv.reason:
            for k in range(customer_turns + 1, INTENT_TURNS + 1):  # fewer customer messages: the last estimate holds
                self._score_intent(k, previous, conv)
        truth = self.truth.get(conv.external_id)
        for kind in fired.values():
            self.alert_fired[kind] += 1
            correct = _alert_correct(kind, self.judgement.get(conv.id, {}), truth)
            if correct is not None:
                self.alert_outcomes[kind].append(correct)
        engine.forget(conv.id)

    def _score_action(self, state, previous, action: str) -> None:
        ranked = [previous.next_action.action] + [a.label for a in previous.next_action.alternatives]
        self.hits["next_action@1"].append(int(ranked[0] == action))
        self.hits["next_action@3"].append(int(action in ranked[:3]))
        probs = self.engine._intent_probs(state)
        detected = max(probs, key=probs.get) if probs else None  # the reason assist believed at that moment
        for name, base in self.baselines.next_actions(detected, list(state.actions)).items():
            self.base_hits["next_action@1"][name].append(int(base[:1] == [action]))
            self.base_hits["next_action@3"][name].append(int(action in base[:3]))

    def _score_intent(self, k: int, update, conv: Transcript) -> None:
        if self.engine.intent_model is not None:
            self.intent_by_turn[k].append(int(update is not None and update.intent.label == conv.reason))
        for name, label in self.baselines.intent.predict(customer_texts(conv), k).items():
            self.base_hits[f"intent{k}"][name].append(int(label == conv.reason))

    def _score_reply(self, state, previous, past, conv: Transcript) -> None:
        real = to_template(past.text, conv.customer, conv.agent_name)
        real_vec = self._vector(real)
        suggested = [r.template for r in previous.replies]
        sims = self.engine.encoder.encode(suggested) @ real_vec if suggested else np.zeros(0)
        self.hits["reply@1"].append(int((sims[:1] >= SAME_REPLY).any()))
        self.hits["reply@3"].append(int((sims[:3] >= SAME_REPLY).any()))
        context = state.context.vector()
        nearest = self.baselines.nearest_replies(context, 3)
        near_sims = self.engine.encoder.encode(nearest) @ real_vec if nearest else np.zeros(0)
        self.base_hits["reply@1"]["nearest_context"].append(int((near_sims[:1] >= SAME_REPLY).any()))
        self.base_hits["reply@3"]["nearest_context"].append(int((near_sims[:3] >= SAME_REPLY).any()))
        if len(self.pool_vectors) <= self.distractors:
            return
        # ABCD-style: the true reply among 99 others from the held-out pool (none near-identical to it).
        candidates = []
        for j in self.rng.sample(range(len(self.pool_vectors)), min(len(self.pool_vectors), self.distractors * 2)):
            if float(self.pool_vectors[j] @ real_vec) < SAME_REPLY:
                candidates.append(j)
            if len(candidates) == self.distractors:
                break
        vectors = np.vstack([real_vec[None, :], self.pool_vectors[candidates]])
        if self.engine.models is not None:
            scores = self.engine.models.replies.score_texts(
                context, vectors, agent=state.agent_id, intent_probs=self.engine._intent_probs(state),
                position=dialogue_position(state.turns), blocks=context_blocks(state.context))  # what live shows
        else:
            scores = np.zeros(len(vectors), dtype=np.float32)  # nothing learned: every candidate alike
        self._rank("model", rank_of_real(np.asarray(scores)))
        if nearest:
            self._rank("nearest_context", rank_of_real(vectors @ self._vector(nearest[0])))
        self.base_hits["ranking@1"]["chance"].append(1 / len(vectors))
        self.base_hits["ranking@3"]["chance"].append(min(3, len(vectors)) / len(vectors))

    def _rank(self, who: str, rank: int) -> None:
        for k in (1, 3):
            hits = self.hits[f"ranking@{k}"] if who == "model" else self.base_hits[f"ranking@{k}"][who]
            hits.append(int(rank < k))

    def fill(self, report: ReplayReport) -> None:
        def mean(values):
            return round(float(np.mean(values)), 4) if values else None

        named = dict(FIGURES)
        for k in range(1, INTENT_TURNS + 1):
            named[f"intent{k}"] = f"intent_accuracy_turn{k}"
            self.hits[f"intent{k}"] = self.intent_by_turn.get(k, [])
        for key, name in named.items():
            values = self.hits.get(key, [])
            report.figures[name] = mean(values)
            report.counts[name] = len(values)
            report.baselines[name] = {b: mean(v) for b, v in self.base_hits.get(key, {}).items()}
        judged = [v for vals in self.alert_outcomes.values() for v in vals]
        report.figures["alert_precision"] = mean(judged)
        report.counts["alert_precision"] = len(judged)
        for kind, n in sorted(self.alert_fired.items()):
            report.alerts[kind] = {"fired": n, "judged": len(self.alert_outcomes.get(kind, [])),
                                   "precision": mean(self.alert_outcomes.get(kind, []))}
        if self.latencies:
            lat = np.array(self.latencies)
            report.latency_ms = {"p50": round(float(np.percentile(lat, 50)), 3), "p99": round(float(np.percentile(lat, 99)), 3),
                                 "updates": int(len(lat))}
