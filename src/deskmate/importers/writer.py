"""Writes a batch of canonical conversations with bulk Core statements, idempotently.

A conversation is keyed by (tenant, source, external id). For each batch the writer
reads what is stored for the batch's keys in one query per table, builds the state
each record asks for (texts redacted by the tenant's policy, since the store holds
redacted text), and compares: identical -> unchanged, untouched; different ->
updated in place, its messages replaced if they differ; absent -> created. Rows go
in as executemany inserts, never as ORM objects per message, which is what makes
an import of 200,000 messages take seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.orm import Session

from deskmate.accounts.models import Tenant
from deskmate.conversations.models import Conversation, ConversationLabel, Message
from deskmate.conversations.service import redaction_for
from deskmate.customers.models import Customer
from deskmate.db import utcnow
from deskmate.importers.base import BatchResult
from deskmate.importers.bulk import BulkInsert
from deskmate.importers.people import chunked, resolve_agents, resolve_customers, select_in
from deskmate.importers.records import ConversationImport

CONVERSATIONS = Conversation.__table__
MESSAGES = Message.__table__
LABELS = ConversationLabel.__table__
COMPARED = ("channel", "customer_id", "agent_id", "subject", "started_at", "ended_at", "status", "outcome", "reason",
            "summary", "attributes", "message_count")
INSERT_MESSAGES = BulkInsert(MESSAGES, ("tenant_id", "conversation_id", "seq", "role", "kind", "text", "action",
                                         "action_values", "created_at"))
INSERT_LABELS = BulkInsert(LABELS, ("tenant_id", "conversation_id", "label"))
INSERT_CONVERSATIONS = BulkInsert(CONVERSATIONS, ("tenant_id", "source", "external_id", *COMPARED, "created_at",
                                                  "updated_at"))
# attributes keys the writer keeps for itself (documented in docs/formats.md)
MESSAGE_IDS = "source_message_ids"
STATUS_AT = "status_changed_at"

# (role, kind, text, action, action_values, created_at)
MessageRow = tuple[str, str, str, str | None, dict, datetime]


@dataclass(slots=True)
class Stored:
    columns: dict
    labels: list[str]
    messages: list[MessageRow]


def redact_values(value: Any, redact: Callable[[str], str]) -> Any:
    """Action values are free text too (a name, an address): redact every string inside them."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_values(v, redact) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_values(v, redact) for v in value]
    return value


def _id_order(source_id: str | None) -> tuple:
    if source_id is None:
        return (2, "")
    return (0, int(source_id), "") if source_id.isdigit() else (1, 0, source_id)


class ConversationSink:
    def __init__(self, tenant_id: int):
        self.tenant_id = tenant_id
        self._redactors: dict[str | None, Callable[[str], str]] = {}
        self._tenant: Tenant | None = None

    def _redactor(self, session: Session, name: str | None) -> Callable[[str], str]:
        redact = self._redactors.get(name)
        if redact is None:
            if self._tenant is None:
                self._tenant = session.get(Tenant, self.tenant_id)
            redact = redaction_for(self._tenant, Customer(name=name) if name else None)
            self._redactors[name] = redact
        return redact

    def write(self, session: Session, items: list[ConversationImport]) -> BatchResult:
        conn = session.connection()
        now = utcnow()
        customers = resolve_customers(conn, self.tenant_id, items, now)
        agents = resolve_agents(conn, self.tenant_id, items, now)
        stored = self._load(conn, items)
        result = BatchResult()
        new: list[tuple[ConversationImport, dict, list[str], list[MessageRow]]] = []
        changed: list[tuple[int, dict, list[str] | None, list[MessageRow] | None]] = []
        for item in items:
            record = item.record
            customer_id, name = customers.get(record.customer.id, (None, None)) if record.customer else (None, None)
            agent_id = agents.get(record.agent.id) if record.agent else None
            before = stored.get((item.source, record.id))
            columns, labels, messages = self._desired(session, item, before, customer_id, agent_id, name, now)
            if before is None:
                new.append((item, columns, labels, messages))
                result.created += 1
                continue
            same_messages = messages == before.messages
            same_labels = labels == before.labels
            if same_messages and same_labels and all(columns[c] == before.columns[c] for c in COMPARED):
                result.unchanged += 1
                continue
            changed.append((before.columns["id"], columns, None if same_labels else labels, None if same_messages else messages))
            result.updated += 1
        result.messages = self._insert_new(conn, new, now) + self._apply_changes(conn, changed, now)
        return result

    # ---- reading what is stored -------------------------------------------------------

    def _load(self, conn: Connection, items: list[ConversationImport]) -> dict[tuple[str, str], Stored]:
        by_source: dict[str, list[str]] = {}
        for item in items:
            by_source.setdefault(item.source, []).append(item.record.id)
        c = CONVERSATIONS.c
        found: dict[tuple[str, str], Stored] = {}
        for source, ids in by_source.items():
            stmt = select(c.id, c.external_id, *(c[name] for name in COMPARED)).where(
                c.tenant_id == self.tenant_id, c.source == source
            )
            for row in select_in(conn, stmt, c.external_id, ids):
                found[(source, row["external_id"])] = Stored(dict(row), [], [])
        if not found:
            return found
        by_id = {s.columns["id"]: s for s in found.values()}
        ids = list(by_id)
        for row in select_in(conn, select(LABELS.c.conversation_id, LABELS.c.label), LABELS.c.conversation_id, ids):
            by_id[row["conversation_id"]].labels.append(row["label"])
        for s in by_id.values():
            s.labels.sort()
        m = MESSAGES.c
        stmt = select(m.conversation_id, m.role, m.kind, m.text, m.action, m.action_values, m.created_at)
        for part in chunked(ids):
            for row in conn.execute(stmt.where(m.conversation_id.in_(part)).order_by(m.conversation_id, m.seq)):
                by_id[row[0]].messages.append(tuple(row[1:]))
        return found

    # ---- what the record asks for -----------------------------------------------------

    def _desired(self, session, item: ConversationImport, before: Stored | None, customer_id, agent_id, name, now):
        record = item.record
        redact = self._redactor(session, name)
        incoming = []  # [time or None, source id, row-without-time]
        for e in record.entries:
            values = redact_values(e.values, redact) if e.values else {}
            text = redact(e.text) if e.text else ""
            incoming.append([e.time, e.id, (e.role, "action" if e.action else "text", text, e.action, values)])
        first_time = next((m[0] for m in incoming if m[0] is not None), None)
        started = record.started_at or first_time
        if before is not None:
            stored_start = before.columns["started_at"]
            started = stored_start if started is None or (item.partial and stored_start < started) else started
        started = started or now
        t = started
        for m in incoming:  # an entry without a time happened no earlier than the one before it
            t = m[0] = m[0] or t
        attributes = dict(record.attributes)
        if item.partial and before is not None:
            return self._merge(item, before, incoming, attributes, started, customer_id, agent_id)
        messages = [(*row, time) for time, _, row in incoming]
        source_ids = [sid for _, sid, _ in incoming]
        if any(sid is not None for sid in source_ids):
            attributes[MESSAGE_IDS] = source_ids
        status = record.status or ("open" if item.partial or not (record.ended_at or record.outcome) else "closed")
        ended = record.ended_at
        if ended is None and status == "closed" and not item.partial:  # closed with its last message
            ended = messages[-1][5] if messages else started
        if item.partial and item.status_at is not None:
            attributes[STATUS_AT] = item.status_at.isoformat()
        columns = {
            "channel": record.channel, "customer_id": customer_id, "agent_id": agent_id, "subject": record.subject,
            "started_at": started, "ended_at": ended, "status": status, "outcome": record.outcome,
            "reason": record.reason, "summary": record.summary, "attributes": attributes, "message_count": len(messages),
        }
        return columns, sorted(set(record.labels)), messages

    def _merge(self, item: ConversationImport, before: Stored, incoming, attributes, started, customer_id, agent_id):
        """Events add to a conversation: messages unite by source id, a status only moves to a newer observation."""
        record, old = item.record, before.columns
        old_attrs = dict(old["attributes"] or {})
        old_ids = list(old_attrs.get(MESSAGE_IDS) or [])[: len(before.messages)]
        old_ids += [None] * (len(before.messages) - len(old_ids))  # messages added another way (the API) stay
        merged: dict = {}
        for position, (row, sid) in enumerate(zip(before.messages, old_ids)):
            merged[sid if sid is not None else ("stored", position)] = (row[5], sid, row)
        for time, sid, row in incoming:
            merged[sid if sid is not None else ("new", len(merged))] = (time, sid, (*row, time))
        ordered = sorted(merged.values(), key=lambda m: (m[0], _id_order(m[1])))
        messages = [row for _, _, row in ordered]
        attributes = {**old_attrs, **attributes}
        attributes[MESSAGE_IDS] = [sid for _, sid, _ in ordered]
        status, outcome, ended = old["status"], old["outcome"], old["ended_at"]
        seen_at = datetime.fromisoformat(old_attrs[STATUS_AT]) if old_attrs.get(STATUS_AT) else None
        if record.status is not None and (item.status_at is None or seen_at is None or item.status_at >= seen_at):
            status, outcome, ended = record.status, record.outcome, record.ended_at
            if item.status_at is not None:
                attributes[STATUS_AT] = item.status_at.isoformat()
        columns = {
            "channel": record.channel if "channel" in record.model_fields_set else old["channel"], "customer_id": customer_id or old["customer_id"],
            "agent_id": agent_id or old["agent_id"], "subject": record.subject or old["subject"],
            "started_at": min(started, old["started_at"]), "ended_at": ended, "status": status, "outcome": outcome,
            "reason": record.reason or old["reason"], "summary": record.summary or old["summary"],
            "attributes": attributes, "message_count": len(messages),
        }
        return columns, sorted(set(before.labels) | set(record.labels)), messages

    # ---- writing ------------------------------------------------------------------------

    def _insert_new(self, conn: Connection, new: list, now: datetime) -> int:
        if not new:
            return 0
        INSERT_CONVERSATIONS.execute(conn, [
            (self.tenant_id, item.source, item.record.id, *(columns[name] for name in COMPARED), now, now)
            for item, columns, _, _ in new
        ])
        c = CONVERSATIONS.c
        ids: dict[tuple[str, str], int] = {}
        by_source: dict[str, list[str]] = {}
        for item, *_ in new:
            by_source.setdefault(item.source, []).append(item.record.id)
        for source, external_ids in by_source.items():
            stmt = select(c.id, c.external_id).where(c.tenant_id == self.tenant_id, c.source == source)
            for row in select_in(conn, stmt, c.external_id, external_ids):
                ids[(source, row["external_id"])] = row["id"]
        labelled = [(ids[(item.source, item.record.id)], labels, messages) for item, _, labels, messages in new]
        return self._insert_children(conn, labelled)

    def _apply_changes(self, conn: Connection, changed: list, now: datetime) -> int:
        if not changed:
            return 0
        c = CONVERSATIONS.c
        stmt = update(CONVERSATIONS).where(c.id == bindparam("b_id")).values(
            {name: bindparam(name) for name in (*COMPARED, "updated_at")}
        )
        conn.execute(stmt, [{"b_id": cid, **columns, "updated_at": now} for cid, columns, _, _ in changed])
        relabel = [cid for cid, _, labels, _ in changed if labels is not None]
        rewrite = [cid for cid, _, _, messages in changed if messages is not None]
        for part in chunked(relabel):
            conn.execute(delete(LABELS).where(LABELS.c.conversation_id.in_(part)))
        for part in chunked(rewrite):
            conn.execute(delete(MESSAGES).where(MESSAGES.c.conversation_id.in_(part)))
        return self._insert_children(conn, [(cid, labels, messages) for cid, _, labels, messages in changed])

    def _insert_children(self, conn: Connection, rows: list[tuple[int, list[str] | None, list[MessageRow] | None]]) -> int:
        tenant_id = self.tenant_id
        INSERT_LABELS.execute(conn, [(tenant_id, cid, label) for cid, names, _ in rows if names for label in names])
        messages = [
            (tenant_id, cid, seq, *message)
            for cid, _, msgs in rows if msgs
            for seq, message in enumerate(msgs, 1)
        ]
        INSERT_MESSAGES.execute(conn, messages)
        return len(messages)
