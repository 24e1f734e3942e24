"""Live assist for the API and the WebSocket: the engine per workspace, updates, feedback.

Engines (and the conversation states inside them) live for the life of the process, keyed by
database and tenant; a new model version or changed tenant settings reconfigure the engine
without dropping the conversations it is following.
"""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskmate.assist.bundle import load_models
from deskmate.assist.engine import AssistEngine
from deskmate.assist.models import FeedbackEvent
from deskmate.assist.schemas import AssistUpdate, FeedbackCreate, suggestion_type_of
from deskmate.conversations.transcript import load_turns, turn_of
from deskmate.errors import InvalidInput

PROCEDURES_TTL = 30.0

_engines: dict[tuple[str, int], AssistEngine] = {}
_engines_lock = threading.Lock()


def workspace_intent_model(settings, tenant_slug: str):
    """The nlp domain's current intent model for the workspace, or None (before `prepare`)."""
    from deskmate.nlp.intent import load_workspace_intent_model

    return load_workspace_intent_model(settings, tenant_slug)


def load_procedures(session: Session, tenant_id: int) -> dict[str, tuple[str, list[str], int | None]]:
    from deskmate.knowledge.models import Procedure

    return {p.reason: (p.name, list(p.actions or []), p.article_id)
            for p in session.scalars(select(Procedure).where(Procedure.tenant_id == tenant_id))}


def engine_for(session: Session, settings, tenant) -> AssistEngine:
    key = (settings.database_url, tenant.id)
    models = load_models(settings, tenant.slug)
    intent_model = workspace_intent_model(settings, tenant.slug)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None or engine.models is not models:
            fresh = AssistEngine(settings, tenant_id=tenant.id, tenant_slug=tenant.slug, tenant_settings=tenant.settings,
                                 models=models, intent_model=intent_model,
                                 procedures=load_procedures(session, tenant.id))
            if engine is not None:
                fresh.adopt_states(engine)  # conversations keep their state across a model upgrade
            engine = _engines[key] = fresh
    engine.intent_model = intent_model
    if engine.tenant_settings != (tenant.settings or {}):
        engine.configure(tenant.settings or {})
    if engine.procedures_age() > PROCEDURES_TTL:
        engine.set_procedures(load_procedures(session, tenant.id))
    return engine


def sweep_silences(now) -> list[tuple[int, int, AssistUpdate]]:
    """(tenant id, conversation id, update) for every followed conversation whose customer has now waited
    too long: the long-silence alert appears while the customer waits, not when the agent finally answers."""
    out = []
    with _engines_lock:
        engines = list(_engines.values())
    for engine in engines:
        states = engine.followed_states()
        for state in states:
            if state.turns and state.turns[-1].role == "customer":
                update = engine.sweep(state, now)
                if update is not None:
                    out.append((engine.tenant_id, state.conversation_id, update))
    return out


def warm_up(settings, sessionmaker) -> int:
    """Load every workspace's models (assist, intent, encoder) before the first message needs them, so no
    agent's first message waits for a model load (seconds, or minutes for a first ONNX export). Returns
    the number of workspaces warmed."""
    from deskmate.accounts.models import Tenant
    from deskmate.db import session_scope

    with session_scope(sessionmaker) as session:
        tenants = list(session.scalars(select(Tenant)))
        for tenant in tenants:
            engine = engine_for(session, settings, tenant)
            engine.encoder.encode(["hello, I need help with my order"])
            engine.dense.sync(session, engine.encoder)
            if engine.intent_model is not None:
                engine.intent_model.predict_proba(["hello, I need help with my order"])
    return len(tenants)


def reset_engines() -> None:
    with _engines_lock:
        _engines.clear()


def _state(session: Session, engine: AssistEngine, conversation, upto_seq: int):
    """The conversation's live state, created or caught up to (and excluding) `upto_seq`."""
    from deskmate.accounts.models import User

    state = engine.get_state(conversation.id)
    if state is None:
        agent = session.get(User, conversation.agent_id) if conversation.agent_id else None
        state = engine.start(session, conversation_id=conversation.id, customer_id=conversation.customer_id,
                             agent_name=agent.name if agent else None, reason=conversation.reason,
                             started_at=conversation.started_at, agent_id=conversation.agent_id)
    with state.lock:
        state.reason = conversation.reason  # the desk may set or correct it at any time
        if state.last_seq < upto_seq - 1:
            engine.catch_up(state, load_turns(session, tenant_id=conversation.tenant_id, conversation_id=conversation.id,
                                              after_seq=state.last_seq, before_seq=upto_seq))
    return state


def assist_message(session: Session, *, settings, tenant, conversation, message, raw_text: str | None = None) -> AssistUpdate:
    """The update after `message` (already stored); `raw_text` is the unredacted text, used only in memory
    to recognise this customer's identifiers for filling replies."""
    engine = engine_for(session, settings, tenant)
    state = _state(session, engine, conversation, message.seq)
    with state.lock:
        if state.last_seq >= message.seq and state.last_update is not None:
            return state.last_update  # already seen (a retry, or a message another worker got first)
        return engine.process(session, state, turn_of(message), raw_text=raw_text)


def current_update(session: Session, *, settings, tenant, conversation) -> AssistUpdate:
    """The latest update for a conversation, building the state from its messages if this process has none."""
    engine = engine_for(session, settings, tenant)
    state = engine.get_state(conversation.id)
    if state is not None and state.last_update is not None and state.last_seq >= conversation.message_count:
        return state.last_update
    last = load_turns(session, tenant_id=conversation.tenant_id, conversation_id=conversation.id, last=1)
    if not last:
        state = _state(session, engine, conversation, 1)
        return engine.process(session, state, None)
    state = _state(session, engine, conversation, last[0].seq)
    return engine.process(session, state, last[0])


def record_feedback(session: Session, *, tenant_id: int, user_id: int | None, data: FeedbackCreate) -> FeedbackEvent:
    from deskmate.conversations.service import get_conversation

    get_conversation(session, tenant_id=tenant_id, conversation_id=data.conversation_id)  # 404 for another tenant's
    kind = suggestion_type_of(data.suggestion_id)
    if kind is None:
        raise InvalidInput(f"suggestion_id: unknown suggestion type in {data.suggestion_id!r}")
    if data.event == "rated" and data.rating is None:
        raise InvalidInput("rating: a 'rated' event needs a rating (-1 to 5)")
    if data.event == "edited" and not (data.final_text or "").strip():
        raise InvalidInput("final_text: an 'edited' event needs the text the agent ended with")
    event = FeedbackEvent(tenant_id=tenant_id, conversation_id=data.conversation_id, suggestion_id=data.suggestion_id,
                          suggestion_type=kind, event=data.event, final_text=data.final_text, rating=data.rating,
                          user_id=user_id)
    session.add(event)
    session.flush()
    return event


def generate_text(session: Session, *, settings, tenant, conversation_id: int, kind: str,
                  draft: str | None) -> tuple[str, list[str]]:
    """A rewritten reply (checked by the guardrails like any suggestion) or a prose summary."""
    from deskmate.assist.generation import GenerationClient
    from deskmate.conversations.service import get_conversation
    from deskmate.errors import Forbidden

    conversation = get_conversation(session, tenant_id=tenant.id, conversation_id=conversation_id, with_messages=True)
    transcript = [(m.role, m.text if m.kind == "text" else f"[action: {m.action}]") for m in conversation.messages]
    client = GenerationClient.from_settings(settings)
    try:
        if kind == "summary":
            return client.summarize(transcript), []
        if not draft:
            raise InvalidInput("draft: give the reply to rewrite")
        text = client.rewrite_reply(draft, transcript)
    finally:
        client.close()
    engine = engine_for(session, settings, tenant)
    state = _state(session, engine, conversation, conversation.message_count + 1)
    guarded = engine.guardrails.check(text, state.customer, agent_name=state.agent_name, conversation_ids=state.entities)
    if guarded.text is None:
        raise Forbidden("the generated reply was withheld by the guardrails: " + "; ".join(guarded.reasons))
    return guarded.text, guarded.reasons
