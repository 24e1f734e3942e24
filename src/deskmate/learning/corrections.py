"""Agents' corrections of the reason for contact, and supervisors' new intents, as intent training data.

A correction keeps the customer's opening messages with the corrected label. The conversation
itself carries the new reason, so the next workspace intent model (nlp's `prepare`, which
learns from labelled history) already trains on it; `correction_examples` hands the same pairs
to anything that wants them explicitly, and `retrain_intents` marks which model used them.
A new intent (proposed from an emerging topic, or typed by a supervisor) is added to the current
model with a few examples through `IntentClassifier.add_intent`, saved as a new model version.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deskmate.errors import InvalidInput, NotFound
from deskmate.learning.models import IntentCorrection

OPENING_MESSAGES = 2
MIN_EXAMPLES = 3


def opening_text(session: Session, conversation_id: int, *, tenant_id: int | None = None) -> str:
    """The customer's first messages: what an intent model sees before the agent has done anything.

    Read in the conversation's own workspace (`tenant_id`, looked up when not given)."""
    from deskmate.conversations.models import Conversation
    from deskmate.conversations.transcript import load_transcripts

    if tenant_id is None:
        tenant_id = session.scalar(select(Conversation.tenant_id).where(Conversation.id == conversation_id))
    found = load_transcripts(session, tenant_id, [conversation_id]) if tenant_id is not None else []
    texts = [t.text for t in (found[0].turns if found else []) if t.role == "customer" and t.kind == "text"]
    return "\n".join(t for t in texts[:OPENING_MESSAGES] if t)


def new_correction(session: Session, *, tenant_id: int, conversation_id: int, old_reason: str | None, new_reason: str,
                   user_id: int | None, source: str) -> IntentCorrection:
    return IntentCorrection(tenant_id=tenant_id, conversation_id=conversation_id, old_reason=old_reason,
                            new_reason=new_reason, text=opening_text(session, conversation_id, tenant_id=tenant_id),
                            user_id=user_id, source=source)


def correct_reason(session: Session, *, tenant_id: int, conversation_id: int, reason: str,
                   user_id: int | None) -> IntentCorrection:
    """Relabel a conversation's reason (POST /learning/corrections) and keep the correction."""
    from deskmate.conversations.models import ConversationUpdate
    from deskmate.conversations.service import get_conversation, update_conversation
    from deskmate.learning.hooks import SKIP_RELABEL

    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason: give the correct reason for contact")
    conversation = get_conversation(session, tenant_id=tenant_id, conversation_id=conversation_id)
    if conversation.reason == reason:
        raise InvalidInput(f"reason: conversation {conversation_id} already has the reason {reason!r}")
    old = conversation.reason
    session.info[SKIP_RELABEL] = True  # recorded here with the user, not again by the relabel listener
    try:
        update_conversation(session, conversation=conversation, data=ConversationUpdate(reason=reason))
    finally:
        session.info.pop(SKIP_RELABEL, None)
    correction = new_correction(session, tenant_id=tenant_id, conversation_id=conversation_id, old_reason=old,
                                new_reason=reason, user_id=user_id, source="api")
    session.add(correction)
    session.flush()
    return correction


def list_corrections(session: Session, *, tenant_id: int, limit: int = 100, offset: int = 0
                     ) -> tuple[list[IntentCorrection], int]:
    base = select(IntentCorrection).where(IntentCorrection.tenant_id == tenant_id)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.scalars(base.order_by(IntentCorrection.created_at.desc(), IntentCorrection.id.desc())
                           .limit(limit).offset(offset))
    return list(rows), int(total)


def correction_examples(session: Session, *, tenant_id: int, unused_only: bool = False) -> list[tuple[str, str]]:
    """(opening text, corrected reason) pairs, the latest correction per conversation winning."""
    stmt = select(IntentCorrection).where(IntentCorrection.tenant_id == tenant_id)
    if unused_only:
        stmt = stmt.where(IntentCorrection.used_in.is_(None))
    latest: dict[int, IntentCorrection] = {}
    for c in session.scalars(stmt.order_by(IntentCorrection.created_at, IntentCorrection.id)):
        latest[c.conversation_id] = c
    return [(c.text, c.new_reason) for c in latest.values() if c.text.strip()]


def mark_used(session: Session, *, tenant_id: int, model_version: str) -> int:
    rows = list(session.scalars(select(IntentCorrection).where(IntentCorrection.tenant_id == tenant_id,
                                                               IntentCorrection.used_in.is_(None))))
    for row in rows:
        row.used_in = model_version
    return len(rows)


def retrain_intents(settings, sessionmaker, *, tenant_id: int, force: bool = False, progress=None):
    """Retrain the workspace intent model (nlp's recipe over the labelled conversations, which carry the
    corrected reasons) and mark the corrections it learnt from."""
    from deskmate.db import session_scope
    from deskmate.nlp.intent_store import train_workspace_intent_model

    result = train_workspace_intent_model(settings, sessionmaker, tenant_id, force=force, progress=progress)
    if result.trained and result.version:
        with session_scope(sessionmaker) as session:
            mark_used(session, tenant_id=tenant_id, model_version=result.version)
    return result


def accept_intent(settings, *, tenant_slug: str, label: str, examples: list[str]) -> str:
    """Add a supervisor-approved intent to the workspace's intent model; returns the new model version."""
    label = (label or "").strip()
    examples = [e.strip() for e in examples if e and e.strip()]
    if not label:
        raise InvalidInput("label: name the new intent (e.g. sizing_issue)")
    if len(examples) < MIN_EXAMPLES:
        raise InvalidInput(f"examples: give at least {MIN_EXAMPLES} example messages; got {len(examples)}")
    from deskmate.nlp.intent import IntentClassifier, current_version, workspace_intent_dir
    from deskmate.nlp.intent_store import publish

    version = current_version(settings, tenant_slug)
    if version is None:
        raise NotFound(f"workspace {tenant_slug!r} has no intent model yet: run 'deskmate prepare' first")
    # A private copy: the cached model serving live traffic is never changed in place.
    model = IntentClassifier.load(workspace_intent_dir(settings, tenant_slug) / version)
    if label in set(map(str, model.classes_)):
        raise InvalidInput(f"label: the intent {label!r} already exists")
    model.add_intent(label, examples)
    publish(settings, tenant_slug, model)
    return model.version
