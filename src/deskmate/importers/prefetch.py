"""Redact the next batch in a second process while this one writes the current batch.

Redaction is about 40% of an import's CPU time and needs nothing from the store except the
tenant's policy and the customer's name, so on a machine with two or more cores it runs beside
the writes instead of before them. The result is a lookup keyed by (customer name, text): the
writer uses it when the name it resolved from the store is the one the record carried, and
redacts in-process otherwise, so what is stored is identical with or without the helper (a
test checks this). Small imports do not start a process: it would cost more than it saves.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Iterable, Iterator

# Below this many bytes of source an import is over before a helper process has started.
MIN_BYTES = 4_000_000

Redacted = dict[tuple[str | None, str], str]


def wanted(requested: bool | None, size: int | None) -> bool:
    """Whether to redact ahead: on request, or automatically for big files on a multi-core machine."""
    if requested is not None:
        return requested
    if os.environ.get("DESKMATE_IMPORT_WORKERS", "").strip() == "0":
        return False
    return (os.cpu_count() or 1) >= 2 and size is not None and size >= MIN_BYTES


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value:
            yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def texts_of(items: Iterable) -> dict[str | None, list[str]]:
    """Every text the writer will redact, by the customer name it will most likely redact it with."""
    out: dict[str | None, list[str]] = {}
    for item in items:
        record = item.record
        name = record.customer.name if record.customer is not None else None
        texts = out.setdefault(name or None, [])
        for e in record.entries:
            if e.text:
                texts.append(e.text)
            if e.values:
                texts.extend(_strings(e.values))
    return out


def _redact(tenant_settings: dict, by_name: dict[str | None, list[str]]) -> dict[str | None, list[str]]:
    from deskmate.nlp.pii import Redactor

    out = {}
    for name, texts in by_name.items():
        redact = Redactor.for_tenant(tenant_settings, names=[name] if name else []).redact
        out[name] = [redact(t) for t in texts]
    return out


def _warm() -> bool:
    import deskmate.nlp.pii  # noqa: F401  (load the detectors while the first batch is parsed)

    return True


class RedactionAhead:
    """One helper process; `submit(items)` returns a future of the batch's redactions."""

    def __init__(self, tenant_settings: dict):
        self.tenant_settings = dict(tenant_settings or {})
        # spawn, not fork: the API runs imports in a thread of a threaded server
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        self._pool.submit(_warm)

    def submit(self, items: list) -> Future:
        by_name = texts_of(items)
        future = self._pool.submit(_redact, self.tenant_settings, by_name)
        result: Future = Future()

        def done(f: Future) -> None:
            try:
                redacted = f.result()
            except BaseException as exc:  # the writer falls back to redacting in-process
                result.set_exception(exc)
                return
            lookup: Redacted = {}
            for name, texts in by_name.items():
                for text, clean in zip(texts, redacted[name]):
                    lookup[(name, text)] = clean
            result.set_result(lookup)

        future.add_done_callback(done)
        return result

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)  # at most the batch in hand is finished

    def __enter__(self) -> RedactionAhead:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
