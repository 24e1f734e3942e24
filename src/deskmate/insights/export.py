"""The insight table out of Deskmate: JSON pages, CSV and Parquet (pyarrow), with the same filters as search.

CSV and Parquet are written in row batches, so exporting 100,000 conversations holds one batch
in memory, not the table. Lists (products) and the entity map are JSON text in CSV; Parquet keeps
products as a list column.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deskmate.errors import InvalidInput
from deskmate.insights.models import InsightRecord, InsightTopic
from deskmate.insights.search import Filters

FORMATS = ("json", "csv", "parquet")
BATCH = 2000
COLUMNS = [
    "conversation_id", "external_id", "started_at", "ended_at", "channel", "status", "agent_id", "agent_name",
    "customer_id", "customer_tier", "reason", "intent", "intent_confidence", "topic_number", "topic_label",
    "products", "entities", "sentiment_start", "sentiment_end", "sentiment_lowest", "outcome", "predicted_outcome",
    "quality_score", "handle_seconds", "message_count", "procedure_steps", "procedure_done", "stalled_at", "opening_text",
]


def _row(r: InsightRecord, topics: dict[int, InsightTopic]) -> dict:
    topic = topics.get(r.topic_id)
    out = {c: getattr(r, c, None) for c in COLUMNS if hasattr(InsightRecord, c)}
    out["topic_number"] = topic.number if topic else None
    out["topic_label"] = topic.label if topic else None
    return {c: out.get(c) for c in COLUMNS}


def _query(session: Session, tenant_id: int, filters: Filters | None):
    stmt = select(InsightRecord).where(InsightRecord.tenant_id == tenant_id)
    return (filters or Filters()).apply(stmt, session, tenant_id).order_by(InsightRecord.started_at, InsightRecord.id)


def iter_rows(session: Session, tenant_id: int, filters: Filters | None = None, *, limit: int | None = None,
              offset: int = 0) -> Iterator[dict]:
    topics = {t.id: t for t in session.scalars(select(InsightTopic).where(InsightTopic.tenant_id == tenant_id))}
    stmt = _query(session, tenant_id, filters).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    for r in session.scalars(stmt.execution_options(yield_per=BATCH)):
        yield _row(r, topics)


def count(session: Session, tenant_id: int, filters: Filters | None = None) -> int:
    stmt = _query(session, tenant_id, filters).order_by(None).with_only_columns(func.count())
    return session.scalar(stmt) or 0


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


def write_csv(rows, out) -> int:
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    n = 0
    for row in rows:
        writer.writerow({k: _plain(v) for k, v in row.items()})
        n += 1
    return n


def csv_chunks(rows) -> Iterator[str]:
    """CSV text in pieces, for a streaming HTTP response."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS)
    writer.writeheader()
    for i, row in enumerate(rows, 1):
        writer.writerow({k: _plain(v) for k, v in row.items()})
        if i % 500 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def parquet_schema():
    import pyarrow as pa

    types = {"conversation_id": pa.int64(), "agent_id": pa.int64(), "customer_id": pa.int64(), "topic_number": pa.int64(),
             "message_count": pa.int64(), "procedure_steps": pa.int64(), "procedure_done": pa.int64(),
             "started_at": pa.timestamp("us", tz="UTC"), "ended_at": pa.timestamp("us", tz="UTC"),
             "intent_confidence": pa.float64(), "sentiment_start": pa.float64(), "sentiment_end": pa.float64(),
             "sentiment_lowest": pa.float64(), "quality_score": pa.float64(), "handle_seconds": pa.float64(),
             "products": pa.list_(pa.string())}
    return pa.schema([(c, types.get(c, pa.string())) for c in COLUMNS])


def write_parquet(rows, target) -> int:
    """Write to a path or a binary file object, BATCH rows per row group."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    n = 0
    with pq.ParquetWriter(target, schema) as writer:
        batch: list[dict] = []
        for row in rows:
            row = dict(row)
            row["entities"] = json.dumps(row["entities"] or {}, ensure_ascii=False)
            row["products"] = [str(p) for p in (row["products"] or [])]
            batch.append(row)
            if len(batch) >= BATCH:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                n += len(batch)
                batch = []
        if batch or n == 0:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            n += len(batch)
    return n


def export(session: Session, tenant_id: int, *, fmt: str, out: Path, filters: Filters | None = None) -> int:
    """Write the (filtered) insight table to a file; returns the row count."""
    if fmt not in ("csv", "parquet"):
        raise InvalidInput(f"format must be csv or parquet; got {fmt!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = iter_rows(session, tenant_id, filters)
    if fmt == "csv":
        with out.open("w", newline="", encoding="utf-8") as fh:
            return write_csv(rows, fh)
    return write_parquet(rows, str(out))
