"""Workspace intent models trained from the database, and the record of what they predicted.

Trained versions go to the one model store (`deskmate.modelstore`, kind `nlp.intent.INTENT`),
so every version that ever labelled a message stays loadable (the `intent_predictions` rows
name it) and publishing a new one is a single atomic pointer write. This module depends on
`deskmate.nlp.intent`, never the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskmate.modelstore import ModelStore
from deskmate.nlp.intent import (
    INTENT,
    OPENING_MESSAGES,
    IntentClassifier,
    IntentPrediction,
    current_version,
    data_fingerprint,
    load_workspace_intent_model,
    opening_texts,
)

MIN_EXAMPLES_PER_INTENT = 3


def labelled_openings(session: Session, tenant_id: int) -> tuple[list[str], list[str]]:
    """(texts, reasons) from every conversation of the workspace that has a reason for contact."""
    from deskmate.conversations.models import Conversation, Message

    rows = session.execute(
        select(Conversation.id, Conversation.reason, Message.text)
        .join(Message, Message.conversation_id == Conversation.id)
        .where(Conversation.tenant_id == tenant_id, Conversation.reason.is_not(None), Conversation.reason != "",
               Message.role == "customer", Message.kind == "text")
        .order_by(Conversation.id, Message.seq)
    ).all()
    texts, labels = [], []
    current, said, reason = None, [], None
    for conv_id, conv_reason, text in [*rows, (None, None, None)]:
        if conv_id != current:
            if current is not None:
                for opening in opening_texts(said):
                    texts.append(opening)
                    labels.append(reason)
            current, said, reason = conv_id, [], conv_reason
        if conv_id is not None and len(said) < OPENING_MESSAGES and text and text.strip():
            said.append(text)
    return texts, labels


def drop_rare_intents(texts: list[str], labels: list[str], minimum: int = MIN_EXAMPLES_PER_INTENT):
    """Intents with fewer examples than `minimum` cannot be learnt or calibrated; they are left out (and named)."""
    from collections import Counter

    counts = Counter(labels)
    rare = sorted(label for label, n in counts.items() if n < minimum)
    keep = [i for i, label in enumerate(labels) if counts[label] >= minimum]
    return [texts[i] for i in keep], [labels[i] for i in keep], rare


@dataclass
class TrainResult:
    trained: bool
    version: str | None
    examples: int
    intents: int
    dropped_intents: list[str]
    reason: str = ""
    path: Path | None = None


def publish(settings, tenant_slug: str, model: IntentClassifier) -> Path:
    """Save a model as a new version of the workspace's intent model and make it current; returns its directory."""
    store = ModelStore.of(settings)
    version = store.save(INTENT, tenant_slug, model, {"classes": len(model.classes_), "examples": len(model.texts_)},
                         version=model.version, make_current=True)
    return store.path(INTENT, tenant_slug, version)


def train_workspace_intent_model(
    settings, sessionmaker, tenant_id: int, *, force: bool = False, progress=None, **params
) -> TrainResult:
    """Train the workspace's intent model from its labelled conversations; skipped when the data did not change."""
    from deskmate.accounts.models import Tenant
    from deskmate.db import session_scope

    with session_scope(sessionmaker) as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            from deskmate.errors import NotFound

            raise NotFound(f"no workspace with id {tenant_id}")
        slug = tenant.slug
        texts, labels = labelled_openings(session, tenant_id)
    texts, labels, rare = drop_rare_intents(texts, labels)
    intents = len(set(labels))
    if intents < 2:
        return TrainResult(False, current_version(settings, slug), len(texts), intents, rare,
                           reason="fewer than two intents with enough labelled conversations")
    fingerprint = data_fingerprint(texts, labels)
    existing = load_workspace_intent_model(settings, slug)
    if existing is not None and not force and existing.data_sha256_ == fingerprint:
        return TrainResult(False, existing.version, len(texts), intents, rare, reason="unchanged since the last training",
                           path=ModelStore.of(settings).path(INTENT, slug, existing.version))
    params.setdefault("encoder", settings.encoder)
    params.setdefault("models_dir", settings.models_dir)
    model = IntentClassifier(**params).fit(texts, labels, progress=progress)
    path = publish(settings, slug, model)
    return TrainResult(True, model.version, len(texts), intents, rare, path=path)


def record_intent_predictions(
    session: Session,
    *,
    tenant_id: int,
    conversation_id: int,
    predictions: Iterable[tuple[int | None, IntentPrediction]],
    model_version: str,
) -> int:
    """Keep which model version gave which answer for which message (None message: the whole conversation)."""
    from deskmate.nlp.models import IntentPredictionRecord

    rows = [
        IntentPredictionRecord(tenant_id=tenant_id, conversation_id=conversation_id, message_id=message_id,
                               label=prediction.label, confidence=round(float(prediction.confidence), 6),
                               model_version=model_version)
        for message_id, prediction in predictions
    ]
    session.add_all(rows)
    session.flush()
    return len(rows)
