"""A prepared insights workspace (history, records, topics) where a third of the conversations lost their reason."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from tests.insights.conftest import build_prepared


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def workspace(request, tmp_path_factory):
    from deskmate.conversations.models import Conversation

    ws, cleanup = build_prepared(request.param, tmp_path_factory)
    with ws.session() as s:
        ws.truth = dict(s.execute(select(Conversation.id, Conversation.reason).where(Conversation.tenant_id == ws.tenant_id)).all())
        ws.stripped = sorted(cid for cid in ws.truth if cid % 3 == 0)
        s.execute(update(Conversation).where(Conversation.id.in_(ws.stripped)).values(reason=None))
    yield ws
    ws.engine.dispose()
    if cleanup is not None:
        admin, schema = cleanup
        from sqlalchemy import text

        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
