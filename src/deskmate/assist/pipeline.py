"""Workspace preparation for live assist (after the nlp intent model; order in `deskmate.plugins`).

`build_models` learns everything assist needs from a list of past conversations: the reply
bank and response selector, next-action statistics and the context next-action classifier, the
escalation-risk model, article priors by reason, the customer names the guardrails watch for.
Every conversation teaches, weighted by its probability of having gone well (`outcome_weight`):
history imported without outcomes is the normal case and is never dropped. `prepare_workspace` also rebuilds the
passage index and saves the result as a new version. The replay harness calls `build_models`
on its training slice, so what it scores is exactly what runs live.
"""

from __future__ import annotations

import hashlib
import time
from contextlib import nullcontext
from dataclasses import replace

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deskmate.assist.actions import ActionModel
from deskmate.assist.escalation import EscalationModel
from deskmate.assist.next_action import NextActionClassifier, context_blocks
from deskmate.assist.outcome_weight import outcome_weights, stored_scores
from deskmate.assist.bundle import AssistModels, current_version, load_models, save_version
from deskmate.assist.vector_index import IVFIndex
from deskmate.assist.history import history_ids, load_conversations
from deskmate.assist.replies import ReplyExample, ReplyModel, dialogue_position
from deskmate.assist.state import ConversationState, Turn, turn_text
from deskmate.assist.templating import to_template
from deskmate.assist.tracking import observe
from deskmate.conversations.transcript import Transcript

MAX_PRODUCTS = 5000


def _progress(progress):
    if progress is True:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    return nullcontext(progress or None)


def _step(bar, description: str, total: int):
    if bar is None:
        return lambda n=1: None
    task = bar.add_task(description, total=total)
    return lambda n=1: bar.advance(task, n)


def encode_turns(conversations: list[Transcript], encoder, bar=None) -> dict[str, np.ndarray]:
    texts = sorted({turn_text(t.role, t.kind, t.text, t.action) for c in conversations for t in c.turns} - {""})
    advance = _step(bar, "assist: embedding messages", len(texts))
    vectors: dict[str, np.ndarray] = {}
    for start in range(0, len(texts), 512):
        batch = texts[start : start + 512]
        for text, vec in zip(batch, encoder.encode(batch)):
            vectors[text] = vec
        advance(len(batch))
    return vectors


def new_state(conversation: Transcript, dim: int) -> ConversationState:
    return ConversationState(conversation.id, 0, conversation.customer, conversation.agent_name, conversation.reason,
                             conversation.started_at, dim, agent_id=conversation.agent_id)


def make_turn(past: Turn, vectors: dict[str, np.ndarray]) -> Turn:
    """The past turn as the engine folds it in: with its embedding when `vectors` has it (else the engine encodes it)."""
    return replace(past, vector=vectors.get(turn_text(past.role, past.kind, past.text, past.action)))


def build_models(session: Session, *, tenant_id: int, conversations: list[Transcript], encoder,
                 progress=None, version: str | None = None) -> AssistModels:
    from deskmate.customers.models import Customer, CustomerRecord
    from deskmate.knowledge.models import Procedure

    with _progress(progress) as bar:
        vectors = encode_turns(conversations, encoder, bar)
        weights = outcome_weights(conversations, stored_scores(session, tenant_id, [c.id for c in conversations]))
        actions = ActionModel().fit([(c.reason, c.actions) for c in conversations], weights)
        examples: list[ReplyExample] = []
        moments: dict[str, list] = {"blocks": [], "prior": [], "last": [], "y": [], "w": []}
        risk_text, risk_x, risk_y, risk_conv = [], [], [], []
        advance = _step(bar, "assist: learning from history", len(conversations))
        for conv, weight in zip(conversations, weights.tolist()):
            state = new_state(conv, encoder.dim)
            known = {conv.reason: 1.0} if conv.reason else {}
            for past in conv.turns:
                turn = make_turn(past, vectors)
                if turn.role == "agent" and turn.kind == "text" and turn.text.strip() and state.turns:
                    examples.append(ReplyExample(state.context.vector(), to_template(turn.text, conv.customer, conv.agent_name),
                                                 conv.external_id, conv.reason, conv.agent_id,
                                                 dialogue_position(state.turns), weight, context_blocks(state.context)))
                elif turn.kind == "action" and turn.action and state.turns:
                    moments["blocks"].append(context_blocks(state.context))
                    moments["prior"].append(actions.distribution(known, state.actions,
                                                                 leave_out=(turn.action, weight, conv.reason)))
                    moments["last"].append(state.actions[-1] if state.actions else None)
                    moments["y"].append(turn.action)
                    moments["w"].append(weight)
                observe(state, turn)
                if turn.role == "customer" and turn.kind == "text":  # risk is read after each customer message, as live
                    risk_text.append(" ".join(state.customer_texts))
                    risk_x.append(state.signals.vector())
                    risk_y.append(int(conv.outcome == "escalated"))
                    risk_conv.append(conv.id)
            advance()
        replies = ReplyModel().fit(examples, encoder, known=vectors)
        next_actions = NextActionClassifier().fit(
            np.array(moments["blocks"]) if moments["blocks"] else np.zeros((0, 4 * encoder.dim), dtype=np.float32),
            moments["prior"], moments["last"], moments["y"], sample_weight=moments["w"])
        escalation = EscalationModel().fit(risk_text, np.array(risk_x) if risk_x else np.zeros((0, 8)),
                                           np.array(risk_y), np.array(risk_conv))

    procedures = {p.reason: p.article_id for p in session.scalars(select(Procedure).where(Procedure.tenant_id == tenant_id))}
    article_prior = _article_prior(session, tenant_id, conversations, procedures)
    names = [n for n in session.scalars(select(Customer.name).where(Customer.tenant_id == tenant_id)) if n]
    products: set[str] = set()
    for attrs in session.scalars(select(CustomerRecord.attributes).where(CustomerRecord.tenant_id == tenant_id)):
        products.update(str(p) for p in (attrs or {}).get("products", []) if p)
        if len(products) >= MAX_PRODUCTS:
            break
    return AssistModels(
        version=version or time.strftime("%Y%m%dT%H%M%S") + "-" + hashlib.blake2b(str(time.time_ns()).encode(), digest_size=3).hexdigest(),
        replies=replies, actions=actions, next_actions=next_actions, escalation=escalation, article_prior=article_prior, known_names=names,
        products=sorted(products),
        info={"conversations": len(conversations), "reply_examples": len(examples), "reply_bank": len(replies.templates_),
              "next_action_moments": len(moments["y"]), "outcome_weight_mean": round(float(weights.mean()), 4) if len(weights) else None,
              "built_at": time.time(), "escalation_threshold": escalation.threshold_},
    )


def _article_prior(session: Session, tenant_id: int, conversations: list[Transcript],
                   procedure_articles: dict[str, int | None]) -> dict:
    """reason -> {article id: [resolved conversations that used it, conversations that used it]}.

    A conversation "used" an article when its reason's procedure points to it (policy says so)
    or when its agent inserted or up-rated a suggestion of it."""
    from deskmate.assist.models import FeedbackEvent

    by_id = {c.id: c for c in conversations}
    used: dict[int, set[int]] = {}
    if by_id:
        rows = session.execute(select(FeedbackEvent.conversation_id, FeedbackEvent.suggestion_id, FeedbackEvent.event,
                                      FeedbackEvent.rating)
                               .where(FeedbackEvent.tenant_id == tenant_id, FeedbackEvent.suggestion_type == "kb"))
        for conv_id, suggestion_id, event, rating in rows:
            if conv_id in by_id and (event == "inserted" or (event == "rated" and (rating or 0) > 0)):
                try:
                    used.setdefault(conv_id, set()).add(int(suggestion_id.split(":")[1]))
                except (IndexError, ValueError):
                    continue
    prior: dict[str, dict[str, list[int]]] = {}
    for conv in conversations:
        if not conv.reason:
            continue
        articles = set(used.get(conv.id, ()))
        if procedure_articles.get(conv.reason):
            articles.add(procedure_articles[conv.reason])
        for article_id in articles:
            cell = prior.setdefault(conv.reason, {}).setdefault(str(article_id), [0, 0])
            cell[0] += int(conv.outcome == "resolved")
            cell[1] += 1
    return prior


def history_fingerprint(session: Session, tenant_id: int) -> str:
    """Changes when the closed history, the articles or the procedures change (so a re-run can skip)."""
    from deskmate.conversations.models import Conversation
    from deskmate.knowledge.models import Article, Procedure

    parts = []
    for model, column in ((Conversation, Conversation.updated_at), (Article, Article.updated_at),
                          (Procedure, Procedure.updated_at)):
        count, latest = session.execute(select(func.count(), func.max(column)).where(model.tenant_id == tenant_id)).one()
        parts.append(f"{count}:{latest}")
    return hashlib.blake2b("|".join(parts).encode(), digest_size=8).hexdigest()


def build_passage_index(session: Session, tenant_id: int, encoder, progress=None) -> tuple[IVFIndex, int]:
    from deskmate.assist.models import Passage
    from deskmate.assist.retrieval import rebuild_passages
    from deskmate.knowledge.models import Article

    n_articles = session.scalar(select(func.count()).select_from(Article).where(Article.tenant_id == tenant_id)) or 0
    with _progress(progress) as bar:
        rebuild_passages(session, tenant_id, encoder, progress=_step(bar, "assist: indexing articles", n_articles))
    rows = session.execute(select(Passage.id, Passage.embedding)
                           .where(Passage.tenant_id == tenant_id, Passage.active.is_(True))).all()
    index = IVFIndex()
    if rows:
        index.fit(np.stack([np.frombuffer(r.embedding, dtype=np.float32) for r in rows]), [r.id for r in rows])
    head = session.scalar(select(func.max(Passage.revision)).where(Passage.tenant_id == tenant_id)) or 0
    return index, int(head) + 1


def prepare_workspace(settings, sessionmaker, tenant_id: int, progress=True, *, force: bool = False) -> AssistModels:
    """Build (or keep, when history is unchanged) the workspace's assist models and make them current."""
    from deskmate.accounts.models import Tenant
    from deskmate.assist.retrieval import register_article_listener
    from deskmate.db import session_scope
    from deskmate.nlp.encoder import get_encoder

    register_article_listener()
    with session_scope(sessionmaker) as session:
        tenant = session.get(Tenant, tenant_id)
        slug = tenant.slug
        fingerprint = history_fingerprint(session, tenant_id)
    existing = load_models(settings, slug) if current_version(settings, slug) else None
    if existing is not None and not force and existing.info.get("fingerprint") == fingerprint:
        return existing
    encoder = get_encoder(settings)
    with session_scope(sessionmaker) as session:
        passages, watermark = build_passage_index(session, tenant_id, encoder, progress)
    with session_scope(sessionmaker) as session:
        conversations = load_conversations(session, tenant_id, history_ids(session, tenant_id))
        models = build_models(session, tenant_id=tenant_id, conversations=conversations, encoder=encoder, progress=progress)
    models.passages, models.passages_watermark = passages, watermark
    models.info["fingerprint"] = fingerprint
    save_version(settings, slug, models)
    return models
