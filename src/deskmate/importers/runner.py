"""Batches, transactions, --strict and the progress bar, shared by every source.

Each batch is one transaction: killed half-way, an import leaves whole batches
behind, and running it again finds them unchanged and carries on, so the store
ends exactly as after one clean run. --strict reads the file once to check every
record before writing anything.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from sqlalchemy.orm import Session, sessionmaker

from deskmate.db import session_scope
from deskmate.errors import InvalidInput
from deskmate.importers.base import Importer, ImportSummary, Parsed, SourceFile
from deskmate.importers.records import validate_conversation
from deskmate.importers.writer import ConversationSink

OnBatch = Callable[[ImportSummary], None]


def run_import(
    sessionmaker: sessionmaker[Session],
    *,
    tenant_id: int,
    importer: Importer,
    path: str | Path,
    strict: bool = False,
    batch_size: int = 500,
    progress: bool = True,
    on_batch: OnBatch | None = None,
) -> ImportSummary:
    """Import one file; safe to re-run (records update in place, unchanged ones are left alone)."""
    path = Path(path)
    SourceFile(path)  # a missing file or a directory is the user's to fix, before any bar is drawn
    label = f"{importer.name} {path.name}"

    def parsed(bar: _Bar) -> Iterator[Parsed]:
        with SourceFile(path) as source:
            bar.follow(source.size, source.position)
            try:
                yield from importer.parse(source)
            except UnicodeDecodeError as exc:
                raise InvalidInput(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None

    return _run(sessionmaker, importer.sink(tenant_id), importer.key, parsed, label=label, strict=strict,
                batch_size=batch_size, progress=progress, on_batch=on_batch)


def import_records(
    sessionmaker: sessionmaker[Session],
    *,
    tenant_id: int,
    records: Iterable[dict],
    source: str = "jsonl",
    strict: bool = False,
    batch_size: int = 500,
    progress: bool = False,
    on_batch: OnBatch | None = None,
) -> ImportSummary:
    """Import canonical conversation records already in memory (the demo generator's path into the store).

    `records` may be a generator; with `strict` it is materialised, since it is read twice.
    """
    if strict and not isinstance(records, (list, tuple)):
        records = list(records)
    total = len(records) if isinstance(records, (list, tuple)) else None

    def parsed(bar: _Bar) -> Iterator[Parsed]:
        bar.count(total)
        for number, data in enumerate(records, 1):
            where = f"record {number}"
            try:
                yield Parsed(where, validate_conversation(data, default_source=source))
            except ValueError as exc:
                yield Parsed(where, error=str(exc))

    sink = ConversationSink(tenant_id)
    return _run(sessionmaker, sink, lambda item: item.key, parsed, label=f"{source} records", strict=strict,
                batch_size=batch_size, progress=progress, on_batch=on_batch)


def _run(sessionmaker, sink, key, parsed: Callable[["_Bar"], Iterator[Parsed]], *, label: str, strict: bool,
         batch_size: int, progress: bool, on_batch: OnBatch | None) -> ImportSummary:
    if batch_size < 1:
        raise InvalidInput("batch size must be at least 1")
    started = time.perf_counter()
    summary = ImportSummary()
    with _progress(progress) as bars:
        if strict:
            bar = bars.add(f"checking {label}")
            for p in parsed(bar):
                if p.error is not None:
                    summary.reject(p)
                bar.update()
            if summary.rejected:
                summary.aborted = True
                summary.seconds = time.perf_counter() - started
                return summary
        bar = bars.add(f"importing {label}")
        batch: list[Any] = []
        keys: set = set()

        def flush() -> None:
            if batch:
                with session_scope(sessionmaker) as session:
                    result = sink.write(session, batch)
                summary.add(result)
                batch.clear()
                keys.clear()
                if on_batch is not None:
                    on_batch(summary)
            bar.update(summary)

        for p in parsed(bar):
            if p.error is not None:
                summary.reject(p)
                continue
            k = key(p.item)
            if k in keys:  # the same record twice: the second must see the first as stored
                flush()
            batch.append(p.item)
            keys.add(k)
            if len(batch) >= batch_size:
                flush()
            else:
                bar.update(summary, lazy=True)
        flush()
    summary.seconds = time.perf_counter() - started
    return summary


class _Bar:
    """One progress task, driven by bytes of the file read or by records counted."""

    def __init__(self, progress: Progress | None, description: str):
        self._progress = progress
        self._task = progress.add_task(description, total=None, status="") if progress else None
        self._position: Callable[[], int] | None = None
        self._seen = 0

    def follow(self, size: int, position: Callable[[], int]) -> None:
        self._position = position
        if self._progress is not None:
            self._progress.update(self._task, total=max(size, 1))

    def count(self, total: int | None) -> None:
        if self._progress is not None:
            self._progress.update(self._task, total=total)

    def update(self, summary: ImportSummary | None = None, lazy: bool = False) -> None:
        if self._progress is None:
            return
        self._seen += 1
        if lazy and self._seen % 200:
            return
        done = self._position() if self._position else self._seen
        status = ""
        if summary is not None:
            status = (f"created {summary.created} · updated {summary.updated} · unchanged {summary.unchanged}"
                      f" · rejected {summary.rejected}")
        self._progress.update(self._task, completed=done, status=status)


class _Bars:
    def __init__(self, progress: Progress | None):
        self._progress = progress

    def add(self, description: str) -> _Bar:
        return _Bar(self._progress, description)


@contextmanager
def _progress(enabled: bool) -> Iterator[_Bars]:
    if not enabled:
        yield _Bars(None)
        return
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
               TimeRemainingColumn(), TextColumn("{task.fields[status]}"))
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        yield _Bars(progress)
