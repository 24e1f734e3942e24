"""Reads the items of a large JSON array one at a time, so a big export is never held whole.

ABCD's full corpus is one JSON object of three arrays ({"train": [...], "dev": [...],
"test": [...]}) of about 10,000 dialogues; a Zendesk export may be one array of
tickets. `json.load` would hold all of it at once; this reader decodes one element
at a time with the standard library's decoder, keeping only a chunk of the file
and the current element in memory.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator, TextIO

_WS = re.compile(r"[ \t\n\r]*")
CHUNK = 1 << 20
# An element bigger than this is a broken file, not a big dialogue: stop reading it.
MAX_ELEMENT = 256 << 20


class MalformedJson(ValueError):
    """The file stops being JSON here; nothing after this point can be read."""


class _Reader:
    def __init__(self, stream: TextIO):
        self.stream = stream
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.line_base = 1  # line number of buf[0]
        self.decoder = json.JSONDecoder()

    def fill(self, size: int = CHUNK) -> None:
        chunk = self.stream.read(size)
        if not chunk:
            self.eof = True
        self.line_base += self.buf.count("\n", 0, self.pos)
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0

    def line(self) -> int:
        return self.line_base + self.buf.count("\n", 0, self.pos)

    def peek(self) -> str:
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if self.eof:
                return ""
            self.fill()

    def expect(self, char: str) -> None:
        if self.peek() != char:
            found = self.peek() or "end of file"
            raise json.JSONDecodeError(f"expected {char!r}, found {found!r}", self.buf, self.pos)
        self.pos += 1

    def value(self) -> Any:
        self.peek()
        size = CHUNK
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError:
                if self.eof or len(self.buf) - self.pos > MAX_ELEMENT:
                    raise
                self.fill(size)  # the element runs past the chunk: read more, bigger each time
                size *= 2
                continue
            if end == len(self.buf) and not self.eof:  # a number cut at the chunk's end would still parse
                self.fill(size)
                continue
            self.pos = end
            return value


def iter_json_items(stream: TextIO) -> Iterator[tuple[str | None, int | None, Any]]:
    """Yield (key, index, element) for each element of a top-level array (key None), or of each
    array inside a top-level object; a non-array member of an object is yielded as (key, None, value).

    Raises MalformedJson, with the file's line in its message, where the JSON breaks.
    """
    reader = _Reader(stream)
    try:
        first = reader.peek()
        if first == "[":
            yield from _array(reader, None)
        elif first == "{":
            reader.pos += 1
            if reader.peek() == "}":
                reader.pos += 1
                return
            while True:
                key = reader.value()
                reader.expect(":")
                if reader.peek() == "[":
                    yield from _array(reader, key)
                else:
                    yield key, None, reader.value()
                if reader.peek() == ",":
                    reader.pos += 1
                    continue
                reader.expect("}")
                break
        else:
            raise json.JSONDecodeError("expected a JSON array or object", reader.buf, reader.pos)
        if reader.peek():
            raise json.JSONDecodeError("extra data after the JSON value", reader.buf, reader.pos)
    except json.JSONDecodeError as exc:
        line = reader.line_base + exc.lineno - 1 if exc.doc is reader.buf else reader.line()
        raise MalformedJson(f"invalid JSON at line {line}: {exc.msg}") from None


def _array(reader: _Reader, key: str | None) -> Iterator[tuple[str | None, int, Any]]:
    reader.expect("[")
    if reader.peek() == "]":
        reader.pos += 1
        return
    index = 0
    while True:
        yield key, index, reader.value()
        index += 1
        if reader.peek() == ",":
            reader.pos += 1
            continue
        reader.expect("]")
        return
