"""CSV with one message per row, grouped into conversations by conversation_id (docs/formats.md).

Rows of one conversation need not be next to each other (exports sorted by time
interleave conversations), so the file is grouped whole before anything is
yielded. A bad row rejects its whole conversation: a transcript with a hole in it
would mislead outcome scoring more than a missing one.
"""

from __future__ import annotations

import csv
import json
from typing import Iterator

from deskmate.errors import InvalidInput
from deskmate.importers.base import Importer, Parsed, SourceFile
from deskmate.importers.records import validate_conversation

REQUIRED = ("conversation_id", "role")
# column -> where it goes in the canonical record; conversation-level values: the last non-empty one wins
CONVERSATION_COLUMNS = {
    "channel": ("channel",), "outcome": ("outcome",), "reason": ("reason",), "status": ("status",),
    "subject": ("subject",), "started_at": ("started_at",), "ended_at": ("ended_at",),
    "customer_id": ("customer", "id"), "customer_name": ("customer", "name"), "customer_email": ("customer", "email"),
    "customer_phone": ("customer", "phone"), "customer_tier": ("customer", "tier"),
    "agent_id": ("agent", "id"), "agent_name": ("agent", "name"), "agent_email": ("agent", "email"),
}


class _Conversation:
    __slots__ = ("first_line", "lines", "entries", "fields", "labels", "error")

    def __init__(self, line: int):
        self.first_line = line
        self.lines: list[int] = []
        self.entries: list[dict] = []
        self.fields: dict = {}
        self.labels: list[str] = []
        self.error: tuple[int, str] | None = None  # (line, reason) of the first bad row


class CsvImporter(Importer):
    name = "csv"
    help = "CSV, one message per row (conversation_id, role, text, time, ...; docs/formats.md)"

    def parse(self, source: SourceFile) -> Iterator[Parsed]:
        reader = csv.reader(source.text, delimiter=self._delimiter(source.head(4096)))
        header = next(reader, None)
        if header is None:
            return
        columns = [h.strip().lower() for h in header]
        missing = [c for c in REQUIRED if c not in columns]
        if missing or not ({"text", "action"} & set(columns)):
            need = ", ".join(missing + ([] if {"text", "action"} & set(columns) else ["text"]))
            raise InvalidInput(f"{source.path.name}: the CSV header lacks column(s) {need} (see docs/formats.md)")
        conversations: dict[str, _Conversation] = {}
        line = reader.line_num + 1
        for row in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            values = {c: v.strip() for c, v in zip(columns, row)}
            cid = values.get("conversation_id", "")
            if not cid:
                yield Parsed(f"line {start}", error="conversation_id is empty")
                continue
            conv = conversations.get(cid)
            if conv is None:
                conv = conversations[cid] = _Conversation(start)
            if conv.error is None:
                conv.error = self._add_row(conv, start, values, len(row), len(columns))
        for cid, conv in conversations.items():
            yield self._record(cid, conv)

    @staticmethod
    def _delimiter(head: str) -> str:
        """The separator that makes the header name a conversation_id column (spreadsheets in many
        locales write ';')."""
        first = head.splitlines()[0] if head else ""
        for delimiter in (",", ";", "\t", "|"):
            if "conversation_id" in (cell.strip().strip('"').lower() for cell in first.split(delimiter)):
                return delimiter
        return ","

    @staticmethod
    def _add_row(conv: _Conversation, line: int, values: dict, width: int, expected: int) -> tuple[int, str] | None:
        if width > expected:
            return line, f"{width} cells for {expected} columns (an unquoted comma?)"
        entry: dict = {"role": values.get("role") or None, "text": values.get("text", "")}
        for column, key in (("time", "time"), ("action", "action"), ("message_id", "id")):
            if values.get(column):
                entry[key] = values[column]
        if values.get("action_values"):
            try:
                entry["values"] = json.loads(values["action_values"])
            except json.JSONDecodeError as exc:
                return line, f"action_values is not JSON ({exc.msg})"
            if not isinstance(entry["values"], dict):
                return line, "action_values must be a JSON object"
        for column, path in CONVERSATION_COLUMNS.items():
            if values.get(column):
                target = conv.fields
                for part in path[:-1]:
                    target = target.setdefault(part, {})
                target[path[-1]] = values[column]
        if values.get("labels"):
            conv.labels.extend(lab.strip() for lab in values["labels"].split(";") if lab.strip())
        conv.lines.append(line)
        conv.entries.append(entry)
        return None

    def _record(self, cid: str, conv: _Conversation) -> Parsed:
        where = f"line {conv.first_line}"
        if conv.error is not None:
            line, reason = conv.error
            return Parsed(f"line {line}", error=f"{reason} (conversation {cid} not imported)")
        data = {"id": cid, **conv.fields, "labels": list(dict.fromkeys(conv.labels)), "entries": conv.entries}
        for part in ("customer", "agent"):
            if part in data and "id" not in data[part]:
                return Parsed(where, error=f"{part} columns given without {part}_id (conversation {cid})")
        if data.get("status") == "closed" and "ended_at" not in data:
            data["ended_at"] = next((e["time"] for e in reversed(conv.entries) if "time" in e), None)

        bad_lines: list[int] = []

        def locate(loc: tuple) -> str | None:
            if len(loc) >= 2 and loc[0] == "entries" and isinstance(loc[1], int):
                bad_lines.append(conv.lines[loc[1]])
                return {"id": "message_id", "values": "action_values"}.get(str(loc[2]), str(loc[2])) if len(loc) > 2 else "row"
            return None

        try:
            return Parsed(where, validate_conversation(data, default_source=self.name, locate=locate))
        except ValueError as exc:
            where = f"line {bad_lines[0]}" if bad_lines else where
            return Parsed(where, error=f"{exc} (conversation {cid} not imported)")
