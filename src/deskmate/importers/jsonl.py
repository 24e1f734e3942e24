"""Deskmate's canonical JSONL: one conversation per line (docs/formats.md)."""

from __future__ import annotations

import json
from typing import Iterator

from deskmate.importers.base import Importer, Parsed, SourceFile, iter_lines
from deskmate.importers.records import validate_conversation


def _no_constant(name: str):
    """NaN and Infinity are not JSON (Python accepts them; PostgreSQL's json type does not)."""
    raise ValueError(f"{name} is not a JSON value")


class JsonlImporter(Importer):
    name = "jsonl"
    help = "Deskmate's canonical JSONL, one conversation per line (docs/formats.md)"

    def parse(self, source: SourceFile) -> Iterator[Parsed]:
        for number, line in iter_lines(source):
            where = f"line {number}"
            try:
                data = json.loads(line, parse_constant=_no_constant)
            except UnicodeDecodeError as exc:
                yield Parsed(where, error=f"not UTF-8 text ({exc.reason})")
                continue
            except json.JSONDecodeError as exc:
                yield Parsed(where, error=f"invalid JSON: {exc.msg} at column {exc.colno}")
                continue
            except ValueError as exc:
                yield Parsed(where, error=f"invalid JSON: {exc}")
                continue
            try:
                yield Parsed(where, validate_conversation(data, default_source=self.name))
            except ValueError as exc:
                yield Parsed(where, error=str(exc))
