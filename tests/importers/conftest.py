"""Helpers for importer tests: run an import, and dump a tenant's store by natural keys.

The dump names rows by what identifies them in the sources (conversation source and
external id, customer external id, ...), never by database ids, so two stores built
in different orders (a killed-and-resumed import, a clean one) compare equal exactly
when their contents are the same.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from deskmate.importers import get_importer, run_import

DATA = Path(__file__).resolve().parents[1] / "data" / "importers"


def _j(value) -> str:
    if isinstance(value, str):  # SQLite hands JSON back as text through a raw query
        value = json.loads(value)
    return json.dumps(value, sort_keys=True)


def _t(value) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else value.isoformat()


QUERIES = {
    "customers": "SELECT external_id, name, email, phone, tier, attributes FROM customers WHERE tenant_id = :t",
    "records": """SELECT r.kind, r.external_id, c.external_id, r.status, r.amount, r.currency, r.attributes
                  FROM customer_records r JOIN customers c ON c.id = r.customer_id WHERE r.tenant_id = :t""",
    "agents": "SELECT external_id, name, email, role FROM users WHERE tenant_id = :t AND external_id IS NOT NULL",
    "conversations": """SELECT v.source, v.external_id, v.channel, c.external_id, u.external_id, v.subject, v.started_at,
                               v.ended_at, v.status, v.outcome, v.reason, v.summary, v.attributes, v.message_count
                        FROM conversations v LEFT JOIN customers c ON c.id = v.customer_id
                        LEFT JOIN users u ON u.id = v.agent_id WHERE v.tenant_id = :t""",
    "labels": """SELECT v.source, v.external_id, l.label FROM conversation_labels l
                 JOIN conversations v ON v.id = l.conversation_id WHERE l.tenant_id = :t""",
    "messages": """SELECT v.source, v.external_id, m.seq, m.role, m.kind, m.text, m.action, m.action_values, m.created_at
                   FROM messages m JOIN conversations v ON v.id = m.conversation_id WHERE m.tenant_id = :t""",
    "articles": "SELECT external_id, title, body, tags, status, version FROM articles WHERE tenant_id = :t",
    "procedures": """SELECT p.reason, p.name, p.actions, a.external_id FROM procedures p
                     LEFT JOIN articles a ON a.id = p.article_id WHERE p.tenant_id = :t""",
}
JSON_COLUMNS = {"customers": {5}, "records": {6}, "conversations": {12}, "messages": {7}, "articles": {3},
                "procedures": {2}}
TIME_COLUMNS = {"conversations": {6, 7}, "messages": {8}}


def dump(store, tenant_id: int, *, bookkeeping: bool = False) -> dict[str, list[tuple]]:
    """Every row a tenant holds, sorted; with `bookkeeping`, also ids and updated_at (to prove nothing was touched)."""
    out = {}
    with store.engine.connect() as conn:
        for table, sql in QUERIES.items():
            rows = []
            for row in conn.execute(text(sql), {"t": tenant_id}):
                values = list(row)
                for i in JSON_COLUMNS.get(table, ()):
                    values[i] = _j(values[i])
                for i in TIME_COLUMNS.get(table, ()):
                    values[i] = _t(values[i])
                if table == "records" and values[4] is not None:
                    values[4] = round(float(values[4]), 2)
                rows.append(tuple(values))
            out[table] = sorted(rows, key=repr)
        if bookkeeping:
            for table in ("conversations", "customers", "customer_records", "messages", "articles"):
                stamp = "updated_at" if table != "messages" else "created_at"
                rows = conn.execute(text(f"SELECT id, {stamp} FROM {table} WHERE tenant_id = :t ORDER BY id"), {"t": tenant_id})
                out[f"{table} ids"] = [(r[0], _t(r[1])) for r in rows]
    return out


def do_import(store, tenant_id: int, source: str, path, **options):
    options.setdefault("progress", False)
    return run_import(store.sessionmaker, tenant_id=tenant_id, importer=get_importer(source), path=path, **options)


def counts(summary) -> tuple[int, int, int, int]:
    return summary.created, summary.updated, summary.unchanged, summary.rejected


@pytest.fixture
def tenant(workspace) -> int:
    return workspace.tenant_id
