"""The one interface every import source implements, and the file it reads from.

An importer only parses: it turns a file into `Parsed` items (a record ready for a
sink, or a rejection with its line or record number). Writing, batching, the
summary and the progress bar are shared (see `runner.py`), so every source gets
the same idempotency and the same kill-and-resume behaviour for free.
"""

from __future__ import annotations

import gzip
import io
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Iterator, Protocol

from sqlalchemy.orm import Session

from deskmate.errors import InvalidInput

# A file full of garbage should not hold a million error strings in memory.
MAX_KEPT_REJECTIONS = 1000


@dataclass(slots=True)
class Parsed:
    """One record read from a source: `item` for the sink, or `error` saying why it was rejected."""

    where: str  # "line 12", "record 3 (train[2])": what a user needs to find it in the file
    item: Any = None
    error: str | None = None


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    messages: int = 0  # message rows written (new or replaced)


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejections: list[str] = field(default_factory=list)  # "line 7: entries.2.role: ..." (the first 1,000)
    aborted: bool = False  # --strict found malformed records, so nothing was written
    messages: int = 0
    seconds: float = 0.0

    def add(self, result: BatchResult) -> None:
        self.created += result.created
        self.updated += result.updated
        self.unchanged += result.unchanged
        self.messages += result.messages

    def reject(self, parsed: Parsed) -> None:
        self.rejected += 1
        if len(self.rejections) < MAX_KEPT_REJECTIONS:
            self.rejections.append(f"{parsed.where}: {parsed.error}")


class Sink(Protocol):
    """Writes one batch of parsed items inside the caller's transaction."""

    def write(self, session: Session, items: list[Any]) -> BatchResult: ...


class Importer(ABC):
    """A source format. Subclasses set `name` and `help`, parse in `parse`, and may pick another sink."""

    name: ClassVar[str]
    help: ClassVar[str]

    @abstractmethod
    def parse(self, source: "SourceFile") -> Iterator[Parsed]:
        """Yield every record of the file in order; never raise for one bad record."""

    def sink(self, tenant_id: int) -> Sink:
        from deskmate.importers.writer import ConversationSink

        return ConversationSink(tenant_id)

    def key(self, item: Any) -> tuple:
        """Identity of an item in the store: two items with one key never share a batch."""
        return item.key


class SourceFile:
    """A file opened for import: plain or gzip (detected by its magic bytes), with its read position for progress."""

    def __init__(self, path: Path):
        self.path = Path(path)
        if self.path.is_dir():
            raise InvalidInput(f"{self.path} is a directory; give the file to import")
        if not self.path.exists():
            raise InvalidInput(f"no such file: {self.path}")
        self.size = self.path.stat().st_size
        self._raw: io.BufferedReader | None = None
        self._binary: io.BufferedIOBase | None = None
        self._text: io.TextIOWrapper | None = None

    def __enter__(self) -> "SourceFile":
        self._raw = open(self.path, "rb")
        gzipped = self._raw.peek(2)[:2] == b"\x1f\x8b"
        self._binary = gzip.GzipFile(fileobj=self._raw) if gzipped else self._raw
        return self

    def __exit__(self, *exc) -> None:
        if self._text is not None:
            self._text.detach()
        if self._binary is not self._raw and self._binary is not None:
            self._binary.close()
        if self._raw is not None:
            self._raw.close()

    @property
    def binary(self) -> io.BufferedIOBase:
        """Byte lines, for line formats that decode each line alone (one bad byte rejects one line)."""
        assert self._binary is not None, "open the SourceFile with `with`"
        return self._binary

    @property
    def text(self) -> io.TextIOWrapper:
        """The file as text; a byte-order mark (Excel's CSV) is dropped."""
        if self._text is None:
            self._text = io.TextIOWrapper(self.binary, encoding="utf-8-sig", newline="")
        return self._text

    def head(self, size: int = 65536) -> str:
        """The first bytes as text, without moving the read position (to tell NDJSON from JSON)."""
        with open(self.path, "rb") as fh:
            gzipped = fh.read(2) == b"\x1f\x8b"
        with (gzip.open if gzipped else open)(self.path, "rb") as fh:
            return fh.read(size).decode("utf-8-sig", errors="replace")

    def position(self) -> int:
        """Bytes of the file consumed so far (compressed bytes for a .gz file)."""
        if self._raw is None:
            return 0
        return self.size if self._raw.closed else self._raw.tell()


def iter_lines(source: SourceFile) -> Iterator[tuple[int, bytes]]:
    """Numbered non-blank byte lines, for JSONL and NDJSON sources."""
    for number, line in enumerate(source.binary, 1):
        if line.strip():
            yield number, line
