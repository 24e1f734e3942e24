"""New intents proposed from emerging topics: what insights found rising, offered to a supervisor with examples.

A proposal is an open insights alert about a topic (a new topic, or a topic whose volume broke
its baseline) whose conversations are not already covered by an intent of the workspace's model:
the supervisor sees its name, top terms and the customers' opening messages, edits the label and
examples, and accepts it with `corrections.accept_intent` (POST /learning/intents).
"""

from __future__ import annotations

import re

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

EXAMPLES = 5


class IntentProposal(BaseModel):
    alert_id: int
    title: str
    kind: str
    suggested_label: str
    terms: list[str]
    conversations: int
    examples: list[str]


def suggested_label(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "_".join(words[:4]) or "new_intent"


def intent_proposals(session: Session, *, settings, tenant_id: int, tenant_slug: str) -> list[IntentProposal]:
    try:
        from deskmate.insights.models import InsightAlert, InsightTopic
    except ImportError:  # insights not installed: nothing to propose
        return []
    from deskmate.learning.corrections import opening_text

    known: set[str] = set()
    try:
        from deskmate.nlp.intent import load_workspace_intent_model

        model = load_workspace_intent_model(settings, tenant_slug)
        known = set(map(str, model.classes_)) if model is not None else set()
    except ImportError:
        pass
    rows = session.execute(
        select(InsightAlert, InsightTopic.label)
        .outerjoin(InsightTopic, InsightTopic.id == InsightAlert.topic_id)
        .where(InsightAlert.tenant_id == tenant_id, InsightAlert.status == "open", InsightAlert.dimension == "topic")
        .order_by(InsightAlert.day.desc(), InsightAlert.id.desc())).all()
    out = []
    for alert, topic_label in rows:
        label = suggested_label(topic_label or alert.subject or alert.title)
        if label in known:
            continue
        ids = [int(i) for i in (alert.conversation_ids or [])]
        examples = [t for t in (opening_text(session, cid) for cid in ids[:EXAMPLES * 2]) if t][:EXAMPLES]
        terms = [t[0] if isinstance(t, (list, tuple)) else str(t) for t in (alert.terms or [])][:8]
        out.append(IntentProposal(alert_id=alert.id, title=alert.title, kind=alert.kind, suggested_label=label,
                                  terms=terms, conversations=len(ids), examples=examples))
    return out
