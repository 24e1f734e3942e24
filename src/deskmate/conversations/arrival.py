"""The one way a live message comes in, whatever carried it (HTTP POST or the desk's WebSocket).

`receive_message` stores the message, commits, fires `message_appended` (live assist is one of
its listeners) and publishes the message and every listener's payload to the live hub, in that
order, for both transports.

Sequence numbers are `max(seq) + 1` within a conversation, so two writers must not read the same
maximum. On PostgreSQL the conversation's row is locked (`SELECT ... FOR UPDATE`) until the commit:
appenders to one conversation queue on that row while other conversations proceed. SQLite has
no row locks and, in WAL mode, a reader's snapshot may be stale by the time it writes, so
appenders to one database file queue on a write gate: a thread lock within the process and an
flock beside the database across worker processes (handing the turn over at once, where
SQLite's busy handler would sleep and retry). Each holder keeps one connection and needs no
second, so queueing never exhausts the pool.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskmate.accounts.models import Tenant
from deskmate.conversations.events import Arrival, Events, events_of, notify_committed
from deskmate.conversations.models import Conversation, Message, MessageCreate, MessageRead
from deskmate.conversations.service import append_message
from deskmate.errors import NotFound


class LivePublisher(Protocol):
    """The live hub as arrival sees it (`deskmate.assist.hub.LiveHub`)."""

    def publish_from_thread(self, tenant_id: int, conversation_id: int, payload: dict) -> None: ...


@dataclass
class Received:
    message: Message
    payloads: list[dict] = field(default_factory=list)  # as published: the message first, then each listener's

    def payload(self, kind: str) -> dict | None:
        return next((p for p in self.payloads if p.get("type") == kind), None)


def receive_message(session: Session, *, tenant: Tenant, conversation_id: int, data: MessageCreate,
                    events: Events | None = None, hub: LivePublisher | None = None, assist: bool = True) -> Received:
    """Store one message at the end of the conversation, commit it, tell the listeners, publish it all live."""
    events = events if events is not None else events_of(session)
    started = time.perf_counter()
    with serialised_writes(session):
        conversation = session.scalar(
            select(Conversation).where(Conversation.tenant_id == tenant.id, Conversation.id == conversation_id)
            .with_for_update().execution_options(populate_existing=True))
        if conversation is None:
            raise NotFound(f"no conversation {conversation_id}")
        message = append_message(session, tenant=tenant, conversation=conversation, data=data)
        session.commit()
    arrival = Arrival(raw_text=data.text, assist=assist, stored_ms=(time.perf_counter() - started) * 1000)
    received = Received(message, [{"type": "message", "message": MessageRead.model_validate(message).model_dump(mode="json")}])
    if hub is not None:  # the message goes out before any listener's work, which may take a while
        hub.publish_from_thread(tenant.id, conversation.id, received.payloads[0])
    for payload in notify_committed(events, "message_appended", session, tenant=tenant, conversation=conversation,
                                    message=message, arrival=arrival):
        received.payloads.append(payload)
        if hub is not None:
            hub.publish_from_thread(tenant.id, conversation.id, payload)
    return received


class SqliteWriteGate:
    """One writer at a time on a SQLite file: a thread lock, then an flock on `<database>.writes.lock`."""

    def __init__(self, database: str):
        self.thread_lock = threading.Lock()
        self.path = f"{database}.writes.lock"
        self.fd: int | None = None

    def __enter__(self):
        import fcntl
        import os

        self.thread_lock.acquire()
        try:
            if self.fd is None:
                self.fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except OSError:  # a read-only directory: the thread lock alone still serialises this process
            pass
        return self

    def __exit__(self, *exc):
        import fcntl

        try:
            if self.fd is not None:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.thread_lock.release()


_gates: dict[str, SqliteWriteGate] = {}  # one per database file in this process (a lock, not configuration)
_gates_lock = threading.Lock()


def serialised_writes(session: Session):
    """The write gate of the session's SQLite file; nothing on PostgreSQL (the row lock does it) or in memory."""
    bind = session.get_bind()
    database = bind.url.database if bind.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        return contextlib.nullcontext()
    with _gates_lock:
        gate = _gates.get(database)
        if gate is None:
            gate = _gates[database] = SqliteWriteGate(database)
    return gate
