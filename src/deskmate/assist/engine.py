"""One workspace's live assist in this process: a message in, an `AssistUpdate` out.

Per message the work is: embed the one new text (cached), fold it into the conversation's state
(`tracking.observe`), and run each stage against that state: intent, context card, knowledge,
next best action, replies, alerts, summary. No stage re-reads the transcript. Stage times are
reported in `AssistUpdate.timings` (ms) so latency is measured where it is spent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import replace
from datetime import datetime

import numpy as np

from deskmate.assist import alerts as alerting
from deskmate.assist import answering
from deskmate.assist.bundle import AssistModels
from deskmate.assist.context_card import load_customer, rank_records
from deskmate.assist.guardrails import Guardrails
from deskmate.assist.next_action import context_blocks
from deskmate.assist.replies import dialogue_position
from deskmate.assist.retrieval import DenseKnowledgeIndex, KnowledgeRetriever
from deskmate.assist.schemas import (
    Alert, AssistUpdate, ChecklistStep, Evidence, IntentCandidate, IntentView, KnowledgeSuggestion, NextBestAction,
    SuggestedReply, UsualStep,
)
from deskmate.assist.state import ConversationState, Turn, turn_text
from deskmate.assist.summary import summarize
from deskmate.assist.templating import customer_values, fill
from deskmate.assist.tracking import observe
from deskmate.conversations.transcript import procedure_progress
from deskmate.db import utcnow
from deskmate.learning.ranking import load_ranker
from deskmate.nlp.intent import OPENING_MESSAGES

log = logging.getLogger("deskmate.assist")
# The desk names an intent once the model's calibrated probability is a majority. The model's own
# out-of-scope threshold (nlp's `threshold_`, 0.91 on the demo) is stricter than the desk needs: on the
# demo replay (456 held-out conversations, 2nd customer message) it left 17.8% "not sure yet" where
# the top candidate was right, and at 0.5 no shown label was wrong. A tenant may set its own
# (`intent_confidence`, stricter or looser); the candidates are always shown.
INTENT_CONFIDENCE = 0.5
# The intent is read from the customer's opening messages joined, as the workspace intent model is
# trained (deskmate.nlp.intent.opening_texts): that is where people say why they came ("hi" /
# "I was charged twice"); later turns answer the agent's questions. Measured on the demo, the joined
# opening beat every per-message vote we tried (geometric, arithmetic, most informative message).
INTENT_MESSAGES = OPENING_MESSAGES
INTENT_CANDIDATES = 5
REPLIES_SHOWN = 3
KNOWLEDGE_SHOWN = 3
CANDIDATES = 6  # what the learning loop may re-order before the top three are shown
MAX_STATES = 5000


_blas_limited = False


def limit_blas_threads() -> None:
    """One BLAS thread per process that serves assist: its products are matrix-vector sized, and with
    OpenBLAS's two threads fighting the encoder and other requests for two cores a 2,600 x 384 product
    measured 2-24 ms instead of 0.3 ms. Parallelism comes from serving many conversations at once."""
    global _blas_limited
    if not _blas_limited:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="blas")
        _blas_limited = True


def intent_text(customer_texts: list[str]) -> str:
    """What the intent model reads: the customer's opening messages, joined (shared with training)."""
    return " ".join(t.strip() for t in customer_texts[:INTENT_MESSAGES] if t.strip())


def _display(label: str | None) -> str:
    return label.replace("_", " ").replace("-", " ") if label else "not sure yet"


class AssistEngine:
    """`ranker` re-orders candidates (`rerank(kind, candidates, context)`): the workspace's live ranker, or in a
    replay the one measured. Transitional: without one, `load_ranker` is asked per list."""

    def __init__(self, settings, *, tenant_id: int, tenant_slug: str, tenant_settings: dict | None,
                 models: AssistModels | None, intent_model=None, encoder=None, procedures=None, ranker=None):
        from deskmate.nlp.encoder import get_encoder

        limit_blas_threads()
        self.settings = settings
        self.tenant_id, self.tenant_slug = tenant_id, tenant_slug
        self.encoder = encoder or get_encoder(settings)
        self.models = models
        self.intent_model = intent_model
        self.ranker = ranker
        self.set_procedures(procedures or {})
        self.configure(tenant_settings or {})
        passages = models.passages if models is not None else None
        self.dense = DenseKnowledgeIndex(tenant_id, passages, models.passages_watermark if models else 0)
        self.retriever = KnowledgeRetriever(tenant_id, self.dense, models.article_prior if models else {})
        self.states: OrderedDict[int, ConversationState] = OrderedDict()
        self._lock = threading.Lock()

    def configure(self, tenant_settings: dict) -> None:
        """Tenant policy (guardrails, alert rules, silence limit); cheap, re-run when settings change."""
        self.tenant_settings = dict(tenant_settings)
        self.guardrails = Guardrails(tenant_settings, self.models.known_names if self.models else [])
        self.rules = alerting.policy_rules(tenant_settings)
        self.silence_limit = float(tenant_settings.get("silence_seconds") or alerting.DEFAULT_SILENCE_SECONDS)

    def set_procedures(self, procedures: dict) -> None:
        """The workspace's procedures: reason -> (name, [actions], article_id); `procedures_age` says how old."""
        self.procedures = procedures
        self._procedures_at = time.monotonic()

    def procedures_age(self) -> float:
        """Seconds since the procedures were last set (the caller reloads them when they are stale)."""
        return time.monotonic() - self._procedures_at

    def _rerank(self, kind: str, candidates: list, state: ConversationState, probs: dict) -> list:
        """Outcome-aware re-ranking by the learning loop's ranker; advisory: any failure there leaves
        assist's own order."""
        if len(candidates) < 2:
            return candidates
        try:
            ranker = self.ranker if self.ranker is not None else load_ranker(self.settings, self.tenant_slug)
            context = {"conversation_id": state.conversation_id, "seq": state.last_seq, "intent_probs": probs,
                       "reason": state.reason, "actions": list(state.actions)}
            return list(ranker.rerank(kind, candidates, context))
        except Exception:  # noqa: BLE001 - a ranking problem must never cost the agent their suggestions
            log.exception("learning re-ranking failed for %s; keeping assist's order", kind)
        return candidates

    @property
    def intent_threshold(self) -> float:
        configured = self.tenant_settings.get("intent_confidence")
        if configured is not None:
            return float(configured)
        own = getattr(self.intent_model, "threshold_", None)
        return min(float(own), INTENT_CONFIDENCE) if own else INTENT_CONFIDENCE

    # ---- state -------------------------------------------------------------------------

    def get_state(self, conversation_id: int) -> ConversationState | None:
        with self._lock:
            state = self.states.get(conversation_id)
            if state is not None:
                self.states.move_to_end(conversation_id)
            return state

    def start(self, session, *, conversation_id: int, customer_id: int | None, agent_name: str | None,
              reason: str | None, started_at: datetime | None, agent_id: int | None = None) -> ConversationState:
        customer, card = load_customer(session, tenant_id=self.tenant_id, customer_id=customer_id, before=started_at,
                                       exclude_conversation=conversation_id)
        state = ConversationState(conversation_id, self.tenant_id, customer, agent_name, reason, started_at,
                                  self.encoder.dim, agent_id=agent_id, card=card)
        with self._lock:
            self.states[conversation_id] = state
            while len(self.states) > MAX_STATES:
                self.states.popitem(last=False)
        return state

    def forget(self, conversation_id: int) -> None:
        with self._lock:
            self.states.pop(conversation_id, None)

    def followed_states(self) -> list[ConversationState]:
        """The conversations this engine follows now (a copy: safe to walk while messages arrive)."""
        with self._lock:
            return list(self.states.values())

    def adopt_states(self, other: "AssistEngine") -> None:
        """Keep following `other`'s conversations (a model upgrade replaces the engine, not the conversations)."""
        with other._lock:
            self.states = other.states

    def catch_up(self, state: ConversationState, turns: list[Turn]) -> None:
        """Fold in turns this process has not seen (a restart, another worker) without building updates."""
        todo = [t for t in turns if t.seq > state.last_seq]
        if not todo:
            return
        vectors = self.encoder.encode([turn_text(t.role, t.kind, t.text, t.action) for t in todo])
        for turn, vector in zip(todo, vectors):
            self._observe(state, replace(turn, vector=vector), raw_text=None)

    def _observe(self, state: ConversationState, turn: Turn, raw_text: str | None) -> None:
        entities = None
        if turn.kind == "text" and turn.role == "customer":
            from deskmate.nlp.entities import extract_entities

            products = tuple(self.models.products) if self.models else ()
            entities = extract_entities(raw_text or turn.text, products=products)
        observe(state, turn, entities=entities)
        if turn.role == "customer" and turn.kind == "text" and self.models is not None:
            said, signals = " ".join(state.customer_texts), state.signals.vector()
            state.risk = self.models.escalation.risk(said, signals)
            if state.risk >= self.models.escalation.threshold_:
                state.risk_why = self.models.escalation.explain(said, signals)
        if (turn.role == "customer" and turn.kind == "text" and self.intent_model is not None
                and len(state.customer_texts) <= INTENT_MESSAGES):
            state.intent_proba = np.asarray(self.intent_model.predict_proba([intent_text(state.customer_texts)])[0])
            state.intent_turns.append(self._intent(state).label)

    # ---- one message -------------------------------------------------------------------

    def process(self, session, state: ConversationState, turn: Turn | None, *, raw_text: str | None = None) -> AssistUpdate:
        """The update after `turn` (None: the state as it is, e.g. a conversation with no messages yet)."""
        timings: dict[str, float] = {}
        t0 = clock = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[stage] = round((now - clock) * 1000, 3)
            clock = now

        with state.lock:
            if turn is not None:
                if turn.vector is None:
                    text = turn_text(turn.role, turn.kind, turn.text, turn.action)
                    turn = replace(turn, vector=self.encoder.encode([text])[0])
                lap("encode")
                self._observe(state, turn, raw_text)
                lap("understand")
            intent = self._intent(state)
            probs = self._intent_probs(state)
            lap("intent")
            card = state.card.model_copy(update={"records": rank_records(state.customer, state.entities, intent.label)})
            lap("context")
            knowledge = self._knowledge(session, state, intent, probs)
            lap("knowledge")
            nba, skipped, procedure = self._next_action(state, probs)
            lap("next_action")
            replies = self._replies(state, probs)
            lap("replies")
            alerts = alerting.evaluate(
                state, turn, alert_cls=Alert, escalation=self.models.escalation if self.models else None,
                skipped_steps=skipped, procedure_name=procedure[0] if procedure else None,
                procedure_actions=procedure[1] if procedure else [], rules=self.rules, silence_limit=self.silence_limit)
            lap("alerts")
            summary = summarize(state, intent_label=intent.label, intent_display=intent.display,
                                next_action=nba.action, alert_reasons=[a.reason for a in alerts])
            lap("summary")
            timings["total"] = round((time.perf_counter() - t0) * 1000, 3)
            update = AssistUpdate(
                conversation_id=state.conversation_id, message_seq=state.last_seq, created_at=utcnow(),
                model_version=self.models.version if self.models else None, context=card, intent=intent,
                knowledge=knowledge, next_action=nba, replies=replies, alerts=alerts, summary=summary,
                sentiment=[round(s, 3) for s in state.sentiments], timings=timings,
            )
            state.last_update = update
            return update

    def sweep(self, state: ConversationState, now: datetime) -> AssistUpdate | None:
        """The last update plus a long-silence alert, once, when the customer has waited too long (None otherwise)."""
        with state.lock:
            previous = state.last_update
            if previous is None or not state.turns or state.turns[-1].role != "customer":
                return None
            waited = alerting.silence_seconds(state.turns[-1].at, now)
            if waited is None or waited < self.silence_limit or any(a.kind == "long_silence" for a in previous.alerts):
                return None
            seq = state.last_seq
            alert = Alert(id=f"alert:long_silence:{state.conversation_id}:{seq}", kind="long_silence",
                          severity="warning", at_seq=seq,
                          reason=f"the customer has been waiting {alerting.describe_wait(waited)} for a reply")
            state.alerts_fired["long_silence"] = alert  # the agent's answer keeps this id
            state.last_update = previous.model_copy(update={"alerts": [*previous.alerts, alert], "created_at": utcnow()})
            return state.last_update

    # ---- stages ------------------------------------------------------------------------

    def _intent_probs(self, state: ConversationState) -> dict[str, float]:
        if state.reason:
            return {state.reason: 1.0}
        dist = state.intent_proba
        if dist is None or self.intent_model is None:
            return {}
        classes = list(self.intent_model.classes_)
        order = np.argsort(-dist)[:INTENT_CANDIDATES]
        return {str(classes[i]): float(dist[i]) for i in order if dist[i] >= 0.02}

    def _intent(self, state: ConversationState) -> IntentView:
        conv, seq = state.conversation_id, state.last_seq
        if state.reason:
            return IntentView(id=f"intent:{state.reason}:{conv}:{seq}", label=state.reason, confidence=1.0,
                              display=_display(state.reason), source="reason",
                              candidates=[IntentCandidate(label=state.reason, confidence=1.0)])
        probs = self._intent_probs(state)
        if not probs:
            return IntentView(id=f"intent:none:{conv}:{seq}", label=None, confidence=0.0, display=_display(None))
        top, confidence = next(iter(probs.items()))
        label = top if confidence >= self.intent_threshold else None
        return IntentView(id=f"intent:{label or 'unsure'}:{conv}:{seq}", label=label, confidence=round(confidence, 4),
                          display=_display(label), source="model",
                          candidates=[IntentCandidate(label=k, confidence=round(v, 4)) for k, v in probs.items()])

    def _knowledge(self, session, state: ConversationState, intent: IntentView, probs: dict) -> list[KnowledgeSuggestion]:
        key = (len(state.customer_texts), intent.label)
        if key == state.knowledge_key:
            return state.knowledge  # nothing the query depends on changed: same suggestions, same ids
        texts = list(reversed(state.customer_texts[-3:]))
        if intent.label:
            texts.insert(0, intent.display)
        hits = self.retriever.suggest(session, texts=texts, vector=state.context.topic_vector(),
                                      intent_probs=probs, encoder=self.encoder, k=CANDIDATES)
        hits = self._rerank("kb", hits, state, probs)[:KNOWLEDGE_SHOWN]
        conv, seq = state.conversation_id, state.last_seq
        out = []
        for hit in hits:
            parts = []
            if hit.terms:
                parts.append("matches " + ", ".join(hit.terms))
            if hit.dense_score is not None:
                parts.append(f"meaning similarity {hit.dense_score:.2f}")
            if hit.prior_support:
                parts.append(f"used in {hit.prior_support[0]} of {hit.prior_support[1]} resolved cases with this intent"
                             if hit.prior_support[1] else "")
            out.append(KnowledgeSuggestion(
                id=f"kb:{hit.article_id}:{conv}:{seq}", article_id=hit.article_id, title=hit.title,
                passage_id=hit.passage_id, passage=hit.passage, score=round(hit.score, 4),
                evidence=Evidence(text="; ".join(p for p in parts if p) or "related text",
                                  support=hit.prior_support[0] if hit.prior_support else None,
                                  total=hit.prior_support[1] if hit.prior_support else None,
                                  sources=[f"article:{hit.article_id}"],
                                  scores={"prior": round(hit.prior, 4), **({"dense": round(hit.dense_score, 4)}
                                                                           if hit.dense_score is not None else {}),
                                          **({"fulltext_rank": float(hit.fulltext_rank)} if hit.fulltext_rank is not None else {})}),
            ))
        state.knowledge, state.knowledge_key = out, key
        return out

    def _next_action(self, state: ConversationState, probs: dict) -> tuple[NextBestAction, list[str], tuple | None]:
        conv, seq = state.conversation_id, state.last_seq
        procedures = {r: p[1] for r, p in self.procedures.items()}
        top = next(iter(probs), None)
        procedure = self.procedures.get(top) if top and probs[top] >= self.intent_threshold else None
        steps, skipped = [], []
        if procedure:
            progress = procedure_progress(procedure[1], state.actions)
            steps, skipped = progress.checklist, progress.skipped
        if self.models is None and not procedure:
            return (NextBestAction(id=f"nba:none:{conv}:{seq}", action=None, source="none",
                                   evidence=Evidence(text="no procedure for this intent and no history yet")), skipped, procedure)
        stats = self.models.actions if self.models else None
        if stats is not None:
            step = stats.next_action(probs, state.actions, procedures, learned=self._learned_actions(state, probs))
            if step.action:
                ordered = self._rerank("nba", [(step.action, step.probability)] + step.alternatives, state, probs)
                if ordered[0][0] != step.action:  # the learning loop knows better for this workspace
                    top_reason = max(probs, key=probs.get) if probs else None
                    support, total = stats.support(top_reason, state.actions, ordered[0][0])
                    step = type(step)(ordered[0][0], float(ordered[0][1]), support, total, step.level,
                                      [tuple(c) for c in ordered[1:4]])
        else:
            from deskmate.assist.actions import ActionStep

            step = ActionStep(procedure_progress(procedure[1], state.actions).next, 1.0, 0, 0, "none")
        source = "procedure" if procedure else ("history" if step.action else "none")
        if procedure:
            index = next((i for i, (_, s) in enumerate(steps) if s == "next"), None)
            text = (f"step {index + 1} of {len(steps)} in '{procedure[0]}'" if index is not None
                    else f"every step of '{procedure[0]}' is done")
            if step.total:
                text += f"; {step.support} of {step.total} similar past cases did this next"
        elif step.action:
            text = f"{step.support} of {step.total} similar past cases did this next ({step.level})"
        else:
            text = "no action is usually taken at this point"
        nba = NextBestAction(
            id=f"nba:{step.action or 'none'}:{conv}:{seq}", action=step.action, source=source,
            procedure=procedure[0] if procedure else None, reason=top,
            checklist=[ChecklistStep(action=a, state=s) for a, s in steps],
            usual=[UsualStep(action=a, state=st, support=n, total=t) for a, st, n, t in stats.usual_progress(top, state.actions)]
            if stats is not None and not procedure else [],
            alternatives=[IntentCandidate(label=a, confidence=round(p, 4)) for a, p in step.alternatives],
            evidence=Evidence(text=text, support=step.support or None, total=step.total or None,
                              scores={"probability": round(step.probability, 4)}),
        )
        return nba, skipped, procedure

    def _learned_actions(self, state: ConversationState, probs: dict) -> dict[str, float] | None:
        """The context classifier's P(next action), or None when this workspace has not trained one."""
        model = self.models.next_actions if self.models is not None else None
        if model is None or not model.fitted:
            return None
        prior = self.models.actions.distribution(probs, state.actions)
        return model.distribution(context_blocks(state.context), prior, state.actions[-1] if state.actions else None)

    def _replies(self, state: ConversationState, probs: dict[str, float]) -> list[SuggestedReply]:
        if self.models is None or not self.models.replies.templates_:
            return []
        ranked = self.models.replies.rank(state.context.vector(), k=CANDIDATES, avoid=state.agent_replies,
                                          agent=state.agent_id, intent_probs=probs, position=dialogue_position(state.turns),
                                          blocks=context_blocks(state.context))
        ranked = self._rerank("reply", ranked, state, probs)
        values = customer_values(state.customer, state.agent_name, state.entities)
        waiting, last_text = answering.customer_waiting(state.turns)
        known = answering.known_values(values, last_text)
        ranked = sorted(ranked, key=lambda r: answering.penalty(r.template, known, waiting))  # stable: demoted, not hidden
        conv, seq = state.conversation_id, state.last_seq
        out: list[SuggestedReply] = []
        for r in ranked:
            text, missing = fill(r.template, values)
            guarded = self.guardrails.check(text, state.customer, agent_name=state.agent_name,
                                            conversation_ids=state.entities)
            if guarded.text is None:
                continue
            evidence = (f"{r.support} of {r.neighbours} most similar past moments were followed by this reply"
                        if r.support else "fits this context (learned from past conversations)")
            if guarded.reasons:
                evidence += "; " + "; ".join(dict.fromkeys(guarded.reasons))
            out.append(SuggestedReply(
                id=f"reply:{r.entry}:{conv}:{seq}", text=guarded.text, template=r.template, score=round(r.score, 4),
                missing_values=missing,
                evidence=Evidence(text=evidence, support=r.support or None, total=r.neighbours or None,
                                  sources=[f"conversation:{s}" for s in r.sources], scores={"votes": round(r.votes, 4)}),
            ))
            if len(out) >= REPLIES_SHOWN:
                break
        return out
