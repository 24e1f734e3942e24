"""Zendesk tickets with their comments: an API page ({"tickets": [...], "users": [...]}), a JSON
array of tickets, or NDJSON with one ticket per line (the incremental export).

A ticket is a conversation keyed by its id; its public comments are the messages
(the requester's are the customer's, everyone else's the agents'). Private
comments are internal notes, not part of the conversation with the customer, and
are left out. A later export of the same ticket replaces the earlier one.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from deskmate.importers.base import Importer, Parsed, SourceFile, iter_lines
from deskmate.importers.jsonstream import MalformedJson, iter_json_items
from deskmate.importers.records import validate_conversation

STATUS = {"new": "open", "open": "open", "pending": "pending", "hold": "pending", "solved": "closed", "closed": "closed"}
CHANNELS = {"web": "web", "web_form": "web", "web_widget": "chat", "chat": "chat", "native_messaging": "chat",
            "email": "email", "voice": "phone", "sms": "sms", "api": "api", "mobile_sdk": "mobile"}
END_USER_ROLES = {"end-user", "end_user"}


def _person(ticket: dict, field: str, users: dict) -> dict | None:
    """An embedded {"id", "name", "email"} object, or an id resolved through sideloaded users."""
    value = ticket.get(field.removesuffix("_id"))
    if isinstance(value, dict) and value.get("id") is not None:
        return {"id": value["id"], "name": value.get("name"), "email": value.get("email")}
    user_id = ticket.get(field)
    if user_id is None:
        return None
    user = users.get(user_id) or {}
    return {"id": user_id, "name": user.get("name"), "email": user.get("email")}


def ticket_record(ticket: Any, users: dict) -> dict:
    if not isinstance(ticket, dict):
        raise ValueError(f"a ticket is a JSON object, got {type(ticket).__name__}")
    if ticket.get("id") is None:
        raise ValueError("ticket id is missing")
    requester = _person(ticket, "requester_id", users)
    assignee = _person(ticket, "assignee_id", users)
    comments = ticket.get("comments")
    if comments is None:
        comments = []
    if not isinstance(comments, list):
        raise ValueError("comments must be a list")
    requester_id = requester["id"] if requester else None
    entries = []
    for n, comment in enumerate(comments, 1):
        if not isinstance(comment, dict):
            raise ValueError(f"comment {n} is not an object")
        if comment.get("public") is False:
            continue
        text = comment.get("plain_body") or comment.get("body") or ""
        if not str(text).strip():
            continue  # an attachment-only comment carries no words to learn from
        author = comment.get("author_id")
        author_role = (users.get(author) or {}).get("role")
        is_customer = author == requester_id or author_role in END_USER_ROLES
        entries.append({"id": comment.get("id"), "role": "customer" if is_customer else "agent", "text": text,
                        "time": comment.get("created_at")})
    if not entries and ticket.get("description"):
        entries.append({"role": "customer", "text": ticket["description"], "time": ticket.get("created_at")})
    raw_status = str(ticket.get("status") or "open").lower()
    if raw_status not in STATUS:
        raise ValueError(f"status {raw_status!r} is not a Zendesk status ({', '.join(STATUS)})")
    status = STATUS[raw_status]
    via = (ticket.get("via") or {}).get("channel") if isinstance(ticket.get("via"), dict) else None
    attributes = {k: ticket[k] for k in ("priority", "type", "group_id", "brand_id") if ticket.get(k) is not None}
    if via:
        attributes["via"] = via
    if isinstance(ticket.get("satisfaction_rating"), dict) and ticket["satisfaction_rating"].get("score"):
        attributes["satisfaction"] = ticket["satisfaction_rating"]["score"]
    ended = None
    if status == "closed":
        ended = ticket.get("solved_at") or ticket.get("updated_at") or next(
            (e["time"] for e in reversed(entries) if e.get("time")), None)
    return {
        "id": ticket["id"], "channel": CHANNELS.get(str(via), str(via)) if via else "email",
        "subject": ticket.get("subject") or ticket.get("raw_subject"), "started_at": ticket.get("created_at"),
        "ended_at": ended, "status": status, "outcome": "resolved" if status == "closed" else None,
        "labels": [str(t) for t in ticket.get("tags") or []], "customer": requester, "agent": assignee,
        "entries": entries, "attributes": attributes,
    }


class ZendeskImporter(Importer):
    name = "zendesk"
    help = "Zendesk tickets with comments: an API page, a JSON array, or NDJSON (one ticket per line)"

    def parse(self, source: SourceFile) -> Iterator[Parsed]:
        head = source.head().lstrip()
        if head.startswith("["):
            yield from self._stream_array(source)
        elif self._is_ndjson(head):
            yield from self._ndjson(source)
        else:
            yield from self._page(source)

    @staticmethod
    def _is_ndjson(head: str) -> bool:
        first = head.split("\n", 1)[0].strip()
        try:
            obj = json.loads(first)
        except json.JSONDecodeError:
            return False  # a pretty-printed page starts with a lone "{"
        return isinstance(obj, dict) and "tickets" not in obj and "ticket" not in obj

    def _convert(self, where: str, ticket: Any, users: dict) -> Parsed:
        try:
            return Parsed(where, validate_conversation(ticket_record(ticket, users), default_source=self.name))
        except ValueError as exc:
            ticket_id = ticket.get("id") if isinstance(ticket, dict) else None
            return Parsed(where, error=f"{exc}" + (f" (ticket {ticket_id})" if ticket_id is not None else ""))

    def _ndjson(self, source: SourceFile) -> Iterator[Parsed]:
        for number, line in iter_lines(source):
            where = f"line {number}"
            try:
                ticket = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                yield Parsed(where, error=f"invalid JSON: {getattr(exc, 'msg', exc)}")
                continue
            if isinstance(ticket, dict) and isinstance(ticket.get("ticket"), dict):
                ticket = ticket["ticket"]
            yield self._convert(where, ticket, {})

    def _stream_array(self, source: SourceFile) -> Iterator[Parsed]:
        number = 0
        try:
            for _, _, ticket in iter_json_items(source.text):
                number += 1
                yield self._convert(f"record {number}", ticket, {})
        except MalformedJson as exc:
            yield Parsed(f"record {number + 1}", error=f"{exc}; the rest of the file cannot be read")

    def _page(self, source: SourceFile) -> Iterator[Parsed]:
        # An API page is small (100 tickets) and its sideloaded users may follow the tickets: read it whole.
        try:
            data = json.load(source.text)
        except json.JSONDecodeError as exc:
            yield Parsed("file", error=f"invalid JSON at line {exc.lineno}: {exc.msg}")
            return
        if isinstance(data, dict) and isinstance(data.get("ticket"), dict):
            data = {"tickets": [data["ticket"]], "users": data.get("users") or []}
        if not isinstance(data, dict) or not isinstance(data.get("tickets"), list):
            yield Parsed("file", error='expected {"tickets": [...]}, a JSON array of tickets, or one ticket per line')
            return
        users = {u.get("id"): u for u in data.get("users") or [] if isinstance(u, dict)}
        for number, ticket in enumerate(data["tickets"], 1):
            yield self._convert(f"record {number}", ticket, users)
