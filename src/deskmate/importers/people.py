"""Customers, their records and agents for one import batch, resolved in a few set-based queries.

Fields a source gives replace the stored ones; fields it leaves out keep their
stored value (a Chatwoot sender carries a name and an e-mail, a Zendesk requester
maybe only an id), and attributes merge key by key. Contact fields are the
customer's own record and are stored as given, not redacted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable, Iterator, Sequence

from sqlalchemy import Connection, bindparam, insert, select, update

from deskmate.accounts.models import User
from deskmate.customers.models import Customer, CustomerRecord
from deskmate.importers.records import ConversationImport

CUSTOMER_FIELDS = ("name", "email", "phone", "tier")
RECORD_FIELDS = ("status", "amount", "currency")
# Well under SQLite's and PostgreSQL's bound-parameter limits, whatever --batch-size says.
IN_CHUNK = 900


def chunked(values: Sequence, size: int = IN_CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def select_in(conn: Connection, stmt, column, values: Iterable) -> list:
    values = list(values)
    rows = []
    for part in chunked(values):
        rows.extend(conn.execute(stmt.where(column.in_(part))).mappings())
    return rows


def _update_by_id(conn: Connection, table, rows: list[dict]) -> None:
    if not rows:
        return
    cols = [k for k in rows[0] if k != "b_id"]
    stmt = update(table).where(table.c.id == bindparam("b_id")).values({c: bindparam(c) for c in cols})
    conn.execute(stmt, rows)


def _merged(stored: dict, wanted: dict, fields: Sequence[str]) -> dict:
    new = {f: wanted[f] if wanted.get(f) is not None else stored[f] for f in fields}
    new["attributes"] = {**(stored["attributes"] or {}), **wanted["attributes"]}
    return new


def _differs(stored: dict, new: dict) -> bool:
    for key, value in new.items():
        old = stored[key]
        if key == "amount" and old is not None and value is not None:
            if round(float(old), 2) != round(float(value), 2):
                return True
        elif old != value:
            return True
    return False


def resolve_customers(conn: Connection, tenant_id: int, items: list[ConversationImport], now: datetime) -> dict[str, tuple[int, str | None]]:
    """Upsert the batch's customers and their records; returns external id -> (row id, name)."""
    wanted: dict[str, dict] = {}
    records: dict[tuple[str, str], dict] = {}
    for item in items:
        c = item.record.customer
        if c is None:
            continue
        w = wanted.setdefault(c.id, {"name": None, "email": None, "phone": None, "tier": None, "attributes": {}})
        for f in CUSTOMER_FIELDS:
            value = getattr(c, f)
            if value is not None:
                w[f] = value
        w["attributes"].update(c.attributes)
        for rec in c.records:
            r = records.setdefault((rec.kind, rec.id), {"attributes": {}})
            r.update(customer=c.id, status=rec.status, amount=rec.amount, currency=rec.currency)
            r["attributes"].update(rec.attributes)
    if not wanted:
        return {}

    t = Customer.__table__
    stmt = select(t.c.id, t.c.external_id, t.c.name, t.c.email, t.c.phone, t.c.tier, t.c.attributes).where(
        t.c.tenant_id == tenant_id
    )
    stored = {row["external_id"]: row for row in select_in(conn, stmt, t.c.external_id, wanted)}
    inserts, updates, result = [], [], {}
    for ext, w in wanted.items():
        row = stored.get(ext)
        if row is None:
            inserts.append({"tenant_id": tenant_id, "external_id": ext, **w, "created_at": now, "updated_at": now})
            continue
        new = _merged(row, w, CUSTOMER_FIELDS)
        if _differs(row, new):
            updates.append({"b_id": row["id"], **new, "updated_at": now})
        result[ext] = (row["id"], new["name"])
    if inserts:
        conn.execute(insert(t), inserts)
        for row in select_in(conn, stmt, t.c.external_id, [r["external_id"] for r in inserts]):
            result[row["external_id"]] = (row["id"], row["name"])
    _update_by_id(conn, t, updates)
    if records:
        _upsert_records(conn, tenant_id, records, {ext: v[0] for ext, v in result.items()}, now)
    return result


def _upsert_records(conn: Connection, tenant_id: int, records: dict, customer_ids: dict[str, int], now: datetime) -> None:
    t = CustomerRecord.__table__
    stmt = select(t.c.id, t.c.kind, t.c.external_id, t.c.customer_id, t.c.status, t.c.amount, t.c.currency, t.c.attributes)
    stmt = stmt.where(t.c.tenant_id == tenant_id)
    stored = {
        (row["kind"], row["external_id"]): row
        for row in select_in(conn, stmt, t.c.external_id, sorted({ext for _, ext in records}))
    }
    inserts, updates = [], []
    for (kind, ext), w in records.items():
        w = dict(w, customer_id=customer_ids[w["customer"]])
        row = stored.get((kind, ext))
        if row is None:
            inserts.append({
                "tenant_id": tenant_id, "kind": kind, "external_id": ext, "customer_id": w["customer_id"],
                **{f: w[f] for f in RECORD_FIELDS}, "attributes": w["attributes"], "created_at": now, "updated_at": now,
            })
            continue
        new = _merged(row, w, ("customer_id", *RECORD_FIELDS))
        if _differs(row, new):
            updates.append({"b_id": row["id"], **new, "updated_at": now})
    if inserts:
        conn.execute(insert(t), inserts)
    _update_by_id(conn, t, updates)


def resolve_agents(conn: Connection, tenant_id: int, items: list[ConversationImport], now: datetime) -> dict[str, int]:
    """Agents seen in history become users carrying the source's id (they have no token until given one).

    An agent whose e-mail is already a signed-up user without a source id is that user.
    """
    wanted: dict[str, dict] = {}
    for item in items:
        a = item.record.agent
        if a is not None:
            w = wanted.setdefault(a.id, {"name": None, "email": None})
            w["name"] = a.name or w["name"]
            w["email"] = a.email or w["email"]
    if not wanted:
        return {}
    t = User.__table__
    base = select(t.c.id, t.c.external_id, t.c.name, t.c.email).where(t.c.tenant_id == tenant_id)
    stored = {row["external_id"]: row for row in select_in(conn, base, t.c.external_id, wanted)}
    result = {ext: row["id"] for ext, row in stored.items()}
    missing = [ext for ext in wanted if ext not in stored]
    emails = {w["email"] for w in wanted.values() if w["email"]}
    by_email = {row["email"]: row for row in select_in(conn, base, t.c.email, emails)}
    inserts, updates = [], []
    for ext in missing:
        w = wanted[ext]
        same = by_email.get(w["email"]) if w["email"] else None
        if same is not None and same["external_id"] is None:
            updates.append({"b_id": same["id"], "external_id": ext, "name": w["name"] or same["name"],
                            "email": same["email"]})
            by_email[w["email"]] = dict(same, external_id=ext)
            result[ext] = same["id"]
            continue
        email = w["email"] if w["email"] and w["email"] not in by_email else None
        if email:
            by_email[email] = {"id": None, "external_id": ext, "name": w["name"], "email": email}
        inserts.append({
            "tenant_id": tenant_id, "external_id": ext, "name": w["name"] or f"agent {ext}", "email": email,
            "role": "agent", "active": True, "created_at": now,
        })
    for ext, row in stored.items():
        w = wanted[ext]
        name = w["name"] or row["name"]
        # an e-mail fills a gap, never takes another user's address
        email = row["email"] or (w["email"] if w["email"] and w["email"] not in by_email else None)
        if (name, email) != (row["name"], row["email"]):
            updates.append({"b_id": row["id"], "external_id": ext, "name": name, "email": email})
            if email:
                by_email[email] = dict(row, email=email)
    if inserts:
        conn.execute(insert(t), inserts)
        for row in select_in(conn, base, t.c.external_id, [r["external_id"] for r in inserts]):
            result[row["external_id"]] = row["id"]
    _update_by_id(conn, t, updates)
    return result
