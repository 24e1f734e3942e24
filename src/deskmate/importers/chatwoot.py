"""Chatwoot webhook events, one JSON event per line, as a webhook receiver would log them.

Events are pieces of conversations: a file's events are grouped per conversation,
then merged with what earlier files stored (messages united by their Chatwoot id,
so re-importing the same events changes nothing). A status is an observation at a
time; the newest observation wins, whatever order the files arrive in.

Handled: message_created and message_updated (incoming -> customer, outgoing and
template -> agent, activity -> system; private notes are internal and left out),
conversation_created, conversation_updated and conversation_status_changed
(resolved -> closed with outcome resolved; pending and snoozed -> pending). Other
events (typing, contact updates) carry no conversation content and are skipped.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterator

from deskmate.importers.base import Importer, Parsed, SourceFile, iter_lines
from deskmate.importers.records import ConversationImport, validate_conversation

MESSAGE_EVENTS = {"message_created", "message_updated"}
CONVERSATION_EVENTS = {"conversation_created", "conversation_updated", "conversation_status_changed"}
MESSAGE_ROLES = {"incoming": "customer", "outgoing": "agent", "template": "agent", "activity": "system",
                 0: "customer", 1: "agent", 2: "system", 3: "agent"}
STATUS = {"open": ("open", None), "pending": ("pending", None), "snoozed": ("pending", None),
          "resolved": ("closed", "resolved")}


def _time(value: Any) -> str | None:
    """Chatwoot writes message times as ISO strings and conversation times as Unix seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=timezone.utc).isoformat()
    return str(value)


def _channel(name: Any) -> str | None:
    if not name:
        return None
    kind = str(name).removeprefix("Channel::").lower()
    return {"webwidget": "chat", "twiliosms": "sms", "facebookpage": "facebook"}.get(kind, kind)[:32]


class _Conversation:
    __slots__ = ("first_line", "messages", "customer", "agent", "status", "status_at", "started_at", "channel", "labels")

    def __init__(self, line: int):
        self.first_line = line
        self.messages: dict[str, dict] = {}
        self.customer: dict | None = None
        self.agent: dict | None = None
        self.status: str | None = None
        self.status_at: str | None = None
        self.started_at: str | None = None
        self.channel: str | None = None
        self.labels: list[str] = []

    def observe_status(self, status: Any, at: str | None) -> None:
        if status not in STATUS:
            return
        if self.status is None or at is None or self.status_at is None or _as_utc(at) >= _as_utc(self.status_at):
            self.status, self.status_at = status, at

    def observe_conversation(self, conv: dict, line: int) -> None:
        self.channel = _channel(conv.get("channel")) or self.channel
        created = _time(conv.get("created_at"))
        if created and (self.started_at is None or _as_utc(created) < _as_utc(self.started_at)):
            self.started_at = created
        meta = conv.get("meta") if isinstance(conv.get("meta"), dict) else {}
        if isinstance(meta.get("sender"), dict) and meta["sender"].get("id") is not None:
            self.customer = _contact(meta["sender"])
        if isinstance(meta.get("assignee"), dict) and meta["assignee"].get("id") is not None:
            self.agent = _agent(meta["assignee"])
        for label in conv.get("labels") or []:
            if isinstance(label, str) and label not in self.labels:
                self.labels.append(label)


def _as_utc(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _contact(sender: dict) -> dict:
    return {"id": sender["id"], "name": sender.get("name"), "email": sender.get("email"),
            "phone": sender.get("phone_number")}


def _agent(sender: dict) -> dict:
    return {"id": sender["id"], "name": sender.get("available_name") or sender.get("name"), "email": sender.get("email")}


class ChatwootImporter(Importer):
    name = "chatwoot"
    help = "Chatwoot webhook events, one JSON event per line (message_created, conversation_status_changed)"

    def parse(self, source: SourceFile) -> Iterator[Parsed]:
        conversations: dict[str, _Conversation] = {}
        for number, line in iter_lines(source):
            where = f"line {number}"
            try:
                event = json.loads(line)
                error = self._apply(event, number, conversations)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                error = f"invalid JSON: {getattr(exc, 'msg', exc)}"
            except (ValueError, TypeError, KeyError) as exc:
                error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, ValueError) else str(exc)
            if error:
                yield Parsed(where, error=error)
        for conversation_id, conv in conversations.items():
            yield self._record(conversation_id, conv)

    def _apply(self, event: Any, line: int, conversations: dict[str, _Conversation]) -> str | None:
        if not isinstance(event, dict):
            return "an event is a JSON object"
        kind = event.get("event")
        if kind in MESSAGE_EVENTS:
            conv_data = event.get("conversation")
            if not isinstance(conv_data, dict) or conv_data.get("id") is None:
                return f"{kind} without conversation.id"
            if event.get("id") is None:
                return f"{kind} without the message id (needed to import it only once)"
            conv = conversations.setdefault(str(conv_data["id"]), _Conversation(line))
            conv.observe_conversation(conv_data, line)
            message_type = event.get("message_type")
            if message_type not in MESSAGE_ROLES:
                return f"message_type {message_type!r} is not incoming, outgoing, activity or template"
            at = _time(event.get("created_at"))
            conv.observe_status(conv_data.get("status"), at)
            if event.get("private"):
                return None
            content = event.get("content")
            if content is None or not str(content).strip():
                return None  # attachments only: nothing to read
            role = MESSAGE_ROLES[message_type]
            sender = event.get("sender") if isinstance(event.get("sender"), dict) else {}
            if role == "customer" and sender.get("id") is not None and sender.get("type", "contact") == "contact":
                conv.customer = _contact(sender)
            elif role == "agent" and sender.get("id") is not None and sender.get("type", "user") == "user":
                conv.agent = _agent(sender)
            conv.messages[str(event["id"])] = {"id": event["id"], "role": role, "text": str(content), "time": at}
            return None
        if kind in CONVERSATION_EVENTS:
            if event.get("id") is None:
                return f"{kind} without the conversation id"
            conv = conversations.setdefault(str(event["id"]), _Conversation(line))
            conv.observe_conversation(event, line)
            at = _time(event.get("updated_at") or event.get("timestamp") or event.get("last_activity_at"))
            conv.observe_status(event.get("status"), at)
            return None
        if not kind:
            return "no event name"
        return None  # typing indicators, contact events: nothing to import

    def _record(self, conversation_id: str, conv: _Conversation) -> Parsed:
        where = f"line {conv.first_line}"
        data: dict = {"id": conversation_id, "entries": list(conv.messages.values()), "labels": conv.labels}
        if conv.channel:
            data["channel"] = conv.channel
        if conv.started_at:
            data["started_at"] = conv.started_at
        if conv.customer:
            data["customer"] = conv.customer
        if conv.agent:
            data["agent"] = conv.agent
        if conv.status:
            data["status"], data["outcome"] = STATUS[conv.status]
            if data["status"] == "closed":
                data["ended_at"] = conv.status_at
        try:
            item = validate_conversation(data, default_source=self.name)
        except ValueError as exc:
            return Parsed(where, error=f"{exc} (conversation {conversation_id})")
        at = _as_utc(conv.status_at) if conv.status_at else None
        return Parsed(where, ConversationImport(record=item.record, source=self.name, partial=True, status_at=at))
