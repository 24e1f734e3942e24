"""Build a conversation's insight record the moment it closes (after outcomes scores it).

Registered on `deskmate.outcomes.hooks.closed_listeners` by the app factory (insights `setup_app`),
so the dashboard, search and export see a closed conversation without waiting for the nightly
refresh; the refresh still catches anything this missed (it runs in a savepoint and only logs).
"""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskmate.knowledge.models import Procedure

CATALOGUE_TTL = 300.0  # seconds a tenant's product catalogue is reused between closes
_settings = None
_catalogues: dict[int, tuple[float, object]] = {}


def _catalogue(session: Session, tenant_id: int):
    from deskmate.insights.records import product_catalogue

    cached = _catalogues.get(tenant_id)
    if cached is None or time.monotonic() - cached[0] > CATALOGUE_TTL:
        cached = _catalogues[tenant_id] = (time.monotonic(), product_catalogue(session, tenant_id))
    return cached[1]


def record_on_close(session: Session, conversation) -> None:
    from deskmate.insights.records import intent_model_for, conversation_views, build_rows
    from deskmate.insights.topics import assign_records
    from deskmate.nlp.encoder import get_encoder

    tenant_id = conversation.tenant_id
    procedures = {p.reason: list(p.actions or []) for p in session.scalars(
        select(Procedure).where(Procedure.tenant_id == tenant_id, Procedure.reason == conversation.reason))}
    rows = build_rows(session, _settings, tenant_id, conversation_views(session, tenant_id, [conversation.id]),
                      catalogue=_catalogue(session, tenant_id), procedures=procedures, encoder=get_encoder(_settings),
                      intent_model=intent_model_for(_settings, session, tenant_id))
    session.flush()
    assign_records(session, tenant_id, [r for r in rows if r.topic_id is None])


def register(settings) -> None:
    """Listen for closes (once per process); the latest app's settings are the ones used."""
    global _settings
    _settings = settings
    try:
        from deskmate.outcomes import hooks
    except ModuleNotFoundError:  # without outcomes there is no close hook: the refresh job covers it
        return
    if record_on_close not in hooks.closed_listeners:
        hooks.closed_listeners.append(record_on_close)
