"""Workspace intent models trained from the store, and the record of what they predicted.

Layout: `<models_dir>/<tenant>/intent/<version>/` per trained version, and a `CURRENT`
file naming the one in use, so every version that ever labelled a message stays loadable
(the `intent_predictions` rows name it) and publishing a new one is a single atomic write.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskmate.nlp.intent import (
    IntentClassifier,
    IntentPrediction,
    current_version,
    data_fingerprint,
    workspace_intent_dir,
)

OPENING_MESSAGES = 2  # the reason for contact is nearly always in the customer's first one or two messages
MIN_EXAMPLES_PER_INTENT = 3


def opening_texts(customer_texts: Sequence[str], max_messages: int = OPENING_MESSAGES) -> list[str]:
    """The training texts of one conversation: its first message, then its first two joined (what assist asks)."""
    said = [t.strip() for t in customer_texts if t and t.strip()]
    return [" ".join(said[:k]) for k in range(1, min(len(said), max_messages) + 1)]


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


_WORKSPACE_MODELS: dict[str, tuple[str, IntentClassifier]] = {}
_WORKSPACE_LOCK = threading.Lock()


def load_current_model(settings, tenant_slug: str) -> IntentClassifier | None:
    """The workspace's current intent model, or None; reloaded only when a new version is published."""
    version = current_version(settings, tenant_slug)
    if version is None:
        return None
    path = workspace_intent_dir(settings, tenant_slug) / version
    key = str(path.parent.resolve())
    with _WORKSPACE_LOCK:
        cached = _WORKSPACE_MODELS.get(key)
        if cached and cached[0] == version:
            return cached[1]
        if not path.exists():
            return None
        model = IntentClassifier.load(path)
        _WORKSPACE_MODELS[key] = (version, model)
        return model


def conversation_examples(conversations) -> tuple[list[str], list[str]]:
    """(texts, labels) from conversations in memory, the same recipe as training from the store.

    Duck-typed: each conversation has `.reason` and `.turns` (or `.messages`) whose items
    have `.role`, `.kind` and `.text`.
    """
    texts, labels = [], []
    for conv in conversations:
        if not getattr(conv, "reason", None):
            continue
        turns = getattr(conv, "turns", None) or getattr(conv, "messages", None) or []
        said = [t.text for t in turns if t.role == "customer" and getattr(t, "kind", "text") == "text" and t.text]
        for text in opening_texts(said):
            texts.append(text)
            labels.append(conv.reason)
    return texts, labels


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
    """Save a model as a new version of the workspace's intent model and make it current."""
    base = workspace_intent_dir(settings, tenant_slug)
    path = model.save(base / model.version)
    pointer = base / "CURRENT"
    tmp = base / f".CURRENT.{os.getpid()}"
    tmp.write_text(model.version)
    os.replace(tmp, pointer)
    return path


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
    existing = load_current_model(settings, slug)
    if existing is not None and not force and existing.data_sha256_ == fingerprint:
        return TrainResult(False, existing.version, len(texts), intents, rare, reason="unchanged since the last training",
                           path=workspace_intent_dir(settings, slug) / existing.version)
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
