"""Build a conversation's insight record the moment it closes (after outcomes scores it).

`InsightRecords` answers `conversation_closed` (registered after outcome scoring by
`deskmate.plugins`), so the dashboard, search and export see a closed conversation without waiting
for the nightly refresh; the refresh still catches anything this missed (it runs in a savepoint
and only logs).
"""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskmate.conversations.events import hookimpl
from deskmate.knowledge.models import Procedure

CATALOGUE_TTL = 300.0  # seconds a tenant's product catalogue is reused between closes


class InsightRecords:
    """Records closed conversations with the encoder and intent model under `settings`."""

    def __init__(self, settings):
        self.settings = settings
        self._catalogues: dict[int, tuple[float, object]] = {}

    def catalogue(self, session: Session, tenant_id: int):
        from deskmate.insights.records import product_catalogue

        cached = self._catalogues.get(tenant_id)
        if cached is None or time.monotonic() - cached[0] > CATALOGUE_TTL:
            cached = self._catalogues[tenant_id] = (time.monotonic(), product_catalogue(session, tenant_id))
        return cached[1]

    @hookimpl
    def conversation_closed(self, session: Session, conversation) -> None:
        self.record(session, conversation)

    def record(self, session: Session, conversation) -> None:
        from deskmate.insights.records import build_rows, conversation_views, intent_model_for
        from deskmate.insights.topics import assign_records
        from deskmate.nlp.encoder import get_encoder

        settings, tenant_id = self.settings, conversation.tenant_id
        procedures = {p.reason: list(p.actions or []) for p in session.scalars(
            select(Procedure).where(Procedure.tenant_id == tenant_id, Procedure.reason == conversation.reason))}
        rows = build_rows(session, settings, tenant_id, conversation_views(session, tenant_id, [conversation.id]),
                          catalogue=self.catalogue(session, tenant_id), procedures=procedures,
                          encoder=get_encoder(settings), intent_model=intent_model_for(settings, session, tenant_id))
        session.flush()
        assign_records(session, tenant_id, [r for r in rows if r.topic_id is None])
