"""Redacting ahead in a helper process stores exactly what redacting in-process stores."""

from __future__ import annotations

import json

from sqlalchemy import select

from deskmate.conversations.models import Message
from deskmate.importers import prefetch
from deskmate.importers.writer import ConversationSink

from .conftest import DATA, do_import, dump

FIXTURE = DATA / "conversations.jsonl"


def _variants(path) -> None:
    """The fixture's records many times over, with the cases where the writer's customer name differs
    from the record's: a record without a name for a known customer, and a renamed customer."""
    base = [json.loads(line) for line in FIXTURE.read_text().splitlines() if line.strip()]
    out = []
    for n in range(12):
        for record in base:
            r = json.loads(json.dumps(record))
            r["id"] = f"{record['id']}-{n}"
            customer = r.get("customer")
            if customer and n % 4 == 1:
                customer.pop("name", None)  # the stored name (from an earlier batch) is the one to redact
            if customer and n % 4 == 2:
                customer["name"] = "Maria Lopez-Garcia"
            if customer:
                r["entries"].append({"role": "customer", "text": f"I'm {customer.get('name') or 'Maria Lopez'}, "
                                     f"call me on +1 415 555 01{n:02d} or write to m{n}@example.com"})
            out.append(r)
    path.write_text("".join(json.dumps(r) + "\n" for r in out))


def test_redacting_ahead_stores_exactly_what_redacting_here_stores(store, workspace, tmp_path, monkeypatch):
    path = tmp_path / "many.jsonl"
    _variants(path)
    used = []
    original = ConversationSink.write

    def spy(self, session, items, redacted=None):
        used.append(bool(redacted))
        return original(self, session, items, redacted)

    monkeypatch.setattr(ConversationSink, "write", spy)
    here = do_import(store, workspace.tenant_id, "jsonl", path, batch_size=7, redact_ahead=False)
    assert not any(used)
    used.clear()
    ahead = do_import(store, workspace.other_tenant_id, "jsonl", path, batch_size=7, redact_ahead=True)
    assert used and all(used), "every batch came with the helper's redactions"
    assert (here.created, here.rejected, here.messages) == (ahead.created, ahead.rejected, ahead.messages) == (60, 0, here.messages)
    assert dump(store, workspace.tenant_id) == dump(store, workspace.other_tenant_id)
    with store.session() as s:
        texts = s.scalars(select(Message.text).where(Message.tenant_id == workspace.other_tenant_id)).all()
    assert not any("@example.com" in t or "555 01" in t for t in texts)
    assert any("[NAME]" in t for t in texts)


def test_small_files_and_single_cores_do_not_start_a_helper(monkeypatch):
    monkeypatch.delenv("DESKMATE_IMPORT_WORKERS", raising=False)
    monkeypatch.setattr(prefetch.os, "cpu_count", lambda: 2)
    assert prefetch.wanted(None, prefetch.MIN_BYTES) and not prefetch.wanted(None, prefetch.MIN_BYTES - 1)
    assert prefetch.wanted(True, 10) and not prefetch.wanted(False, 10**9)
    monkeypatch.setattr(prefetch.os, "cpu_count", lambda: 1)
    assert not prefetch.wanted(None, 10**9)
    monkeypatch.setattr(prefetch.os, "cpu_count", lambda: 8)
    monkeypatch.setenv("DESKMATE_IMPORT_WORKERS", "0")
    assert not prefetch.wanted(None, 10**9)
