"""Insight extraction at scale: 100,000 synthetic conversations through the real bulk refresh on SQLite.

Each conversation opens with a Banking77 utterance (train + test, 13,083 sentences) reworded at
random (a dropped word, a casual ending, lower case), so most openings are distinct and the
encoder's text cache flatters the figure only as much as real repeated traffic would (the
distinct count is printed); an agent reply, an action and a closing customer message follow. Measures:
  - bulk refresh (records + searchable documents + embeddings): conversations per second, peak RSS
  - topic re-fit over the records (sampled fit above 12,000, nearest-centroid for the rest)
  - incremental cost per new conversation: one refresh per new conversation (extraction, encoding,
    nearest-topic assignment, commit), and the nearest-centroid assignment alone.

    .venv/bin/python bench/insights_scale.py [--n 100000] [--encoder minilm-onnx]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def vary(text: str, rng: random.Random) -> str:
    """A customer's own wording of a known request: dropped word, casual ending, lower case."""
    words = text.split()
    if len(words) > 4 and rng.random() < 0.6:
        del words[rng.randrange(1, len(words))]
    out = " ".join(words)
    if rng.random() < 0.5:
        out += rng.choice([" please", " thanks", "!", " asap", " today", " again", " help", "??"])
    return out.lower() if rng.random() < 0.3 else out


def utterances() -> list[str]:
    data = Path(os.environ.get("DESKMATE_DATA", ROOT.parent / "shared" / "data"))
    data = data if data.is_absolute() else (ROOT / data).resolve()
    out = []
    for split in ("train", "test"):
        out += [r["text"] for r in csv.DictReader((data / "banking77" / f"{split}.csv").open(encoding="utf-8"))]
    return out


def seed_conversations(engine, tenant_id: int, n: int, texts: list[str], *, start_id: int = 0, days: int = 90) -> None:
    """Conversations and messages written with executemany (the importer's own bulk path is not under test)."""
    from deskmate.conversations.models import Conversation, Message
    from deskmate.importers.bulk import BulkInsert

    rng = random.Random(start_id + 1)
    t0 = datetime(2026, 6, 1, tzinfo=timezone.utc)
    conv_cols = ["id", "tenant_id", "source", "external_id", "channel", "started_at", "ended_at", "status", "outcome",
                 "reason", "attributes", "message_count", "created_at", "updated_at"]
    msg_cols = ["tenant_id", "conversation_id", "seq", "role", "kind", "text", "action", "action_values", "created_at"]
    conv_insert, msg_insert = BulkInsert(Conversation.__table__, conv_cols), BulkInsert(Message.__table__, msg_cols)
    for lo in range(0, n, 5000):
        convs, msgs = [], []
        for i in range(start_id + lo + 1, start_id + min(n, lo + 5000) + 1):
            at = t0 + timedelta(minutes=rng.randrange(days * 24 * 60))
            opening = vary(rng.choice(texts), rng)
            outcome = rng.choice(["resolved", "resolved", "unresolved", "escalated"])
            convs.append({"id": i, "tenant_id": tenant_id, "source": "bench", "external_id": f"b-{i}", "channel": "chat",
                          "started_at": at, "ended_at": at + timedelta(minutes=7), "status": "closed", "outcome": outcome,
                          "reason": None, "attributes": {}, "message_count": 4, "created_at": at, "updated_at": at})
            for seq, (role, kind, text, action) in enumerate([
                    ("customer", "text", opening, None), ("agent", "text", "Thanks, let me check that for you.", None),
                    ("agent", "action", "", "verify-identity"),
                    ("customer", "text", "ok thanks" if outcome == "resolved" else "this still is not sorted", None)], 1):
                msgs.append({"tenant_id": tenant_id, "conversation_id": i, "seq": seq, "role": role, "kind": kind, "text": text,
                             "action": action, "action_values": {}, "created_at": at + timedelta(minutes=seq)})
        with engine.begin() as conn:
            conv_insert.execute(conn, [tuple(r[c] for c in conv_cols) for r in convs])
            msg_insert.execute(conn, [tuple(r[c] for c in msg_cols) for r in msgs])


def measure_incremental(settings, factory, engine, tenant_id: int, texts, encoder, new: int, *, start_id: int) -> None:
    """Per new conversation: the close hook (its record alone), the refresh job run for it, and the assignment."""
    from sqlalchemy import select

    from deskmate.conversations.models import Conversation
    from deskmate.db import session_scope
    from deskmate.insights import hooks, service, topics
    from deskmate.insights.models import InsightRecord

    recorder = hooks.InsightRecords(settings)
    on_close, refresh = [], []
    for i in range(new):
        seed_conversations(engine, tenant_id, 1, texts, start_id=start_id + 2 * i)
        with session_scope(factory) as s:
            conv = s.get(Conversation, start_id + 2 * i + 1)
            t = time.perf_counter()
            recorder.record(s, conv)
        on_close.append(time.perf_counter() - t)
        seed_conversations(engine, tenant_id, 1, texts, start_id=start_id + 2 * i + 1)
        t = time.perf_counter()
        r = service.refresh(settings, factory, tenant_id, encoder=encoder)
        refresh.append(time.perf_counter() - t)
        assert r["built"] == 1, r
    with session_scope(factory) as s:
        rows = list(s.scalars(select(InsightRecord).where(InsightRecord.tenant_id == tenant_id).limit(1000)))
        n_topics = len(topics.active_topics(s, tenant_id))
        t = time.perf_counter()
        topics.assign_records(s, tenant_id, rows)
        assign_ms = (time.perf_counter() - t) / len(rows) * 1000
        s.rollback()

    def ms(values, q):
        return sorted(values)[min(len(values) - 1, int(len(values) * q))] * 1000

    print(f"incremental, {new} new conversations one at a time:")
    print(f"  close hook (record, document, embedding, topic; commit excluded): median {ms(on_close, .5):.0f} ms, p90 {ms(on_close, .9):.0f} ms")
    print(f"  refresh job run for one conversation (includes the scan for stale rows): median {ms(refresh, .5):.0f} ms, "
          f"p90 {ms(refresh, .9):.0f} ms")
    print(f"  nearest-topic assignment alone: {assign_ms:.3f} ms per conversation ({n_topics} topics)")


def measure_search(settings, factory, tenant_id: int) -> None:
    """Search latency over the whole workspace: full text, semantic (first query loads the vectors), hybrid."""
    from deskmate.db import session_scope
    from deskmate.insights.search import search

    queries = ["my card payment was declined", "customers who could not top up after changing phone"]
    with session_scope(factory) as s:
        t = time.perf_counter()
        search(s, settings, tenant_id, "warm the vector cache", mode="semantic")
        print(f"search: first semantic query (loads the workspace's vectors) {(time.perf_counter() - t) * 1000:.0f} ms")
        for mode in ("text", "semantic", "hybrid"):
            times = []
            for q in queries:
                t = time.perf_counter()
                search(s, settings, tenant_id, q, mode=mode, limit=20)
                times.append((time.perf_counter() - t) * 1000)
            print(f"  {mode}: " + ", ".join(f"{x:.0f} ms" for x in times))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=50, help="new conversations refreshed one at a time")
    parser.add_argument("--encoder", default=None)
    parser.add_argument("--dir", default=None, help="work directory (default: a temporary one)")
    parser.add_argument("--incremental-only", action="store_true",
                        help="reuse --dir's workspace (seeded, refreshed, fitted) and measure only the incremental costs")
    args = parser.parse_args()

    from deskmate.accounts.service import get_or_create_tenant
    from deskmate.config import Settings
    from deskmate.db import make_engine, make_sessionmaker, migrate, session_scope
    from deskmate.insights import service, topics
    from deskmate.insights.models import InsightRecord
    from deskmate.nlp.encoder import get_encoder

    work = Path(args.dir or tempfile.mkdtemp(prefix="insights-scale-"))
    settings = Settings(data_dir=work, **({"encoder": args.encoder} if args.encoder else {}))
    engine = make_engine(settings.database_url)
    migrate(engine)
    factory = make_sessionmaker(engine)
    with session_scope(factory) as s:
        tenant_id = get_or_create_tenant(s, slug="bench").id
    texts = utterances()
    encoder = get_encoder(settings)
    if args.incremental_only:
        from sqlalchemy import func, select

        from deskmate.conversations.models import Conversation

        with session_scope(factory) as s:
            top = s.scalar(select(func.max(Conversation.id)))
        measure_incremental(settings, factory, engine, tenant_id, texts, encoder, args.new, start_id=top + 10)
        measure_search(settings, factory, tenant_id)
        return 0
    t = time.perf_counter()
    seed_conversations(engine, tenant_id, args.n, texts)
    with engine.connect() as conn:
        from sqlalchemy import text as sql

        distinct = conn.execute(sql("SELECT count(DISTINCT text) FROM messages WHERE seq = 1")).scalar()
    print(f"seeded {args.n} conversations ({distinct} distinct openings) in {time.perf_counter() - t:.1f}s ({work})")
    rss0 = peak_rss_mb()

    t, c = time.perf_counter(), time.process_time()
    done = [0]

    def progress(n, total):
        done[0] += n
        if done[0] % 20000 < n:
            print(f"  {done[0]}/{total} records, {done[0] / (time.perf_counter() - t):.0f}/s", flush=True)

    result = service.refresh(settings, factory, tenant_id, full=True, encoder=encoder, on_progress=progress)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    print(f"bulk refresh: {result['built']} records in {wall:.1f}s wall / {cpu:.1f}s cpu = {result['built'] / wall:.0f} conversations/s "
          f"(encoder {encoder.name}); peak RSS {peak_rss_mb():.0f} MB (before refresh {rss0:.0f} MB)")

    t, c = time.perf_counter(), time.process_time()
    fit = service.refit(factory, tenant_id)
    print(f"topic re-fit over {fit['conversations']} records: {fit['topics']} topics, {time.perf_counter() - t:.1f}s wall / "
          f"{time.process_time() - c:.1f}s cpu; peak RSS {peak_rss_mb():.0f} MB")

    measure_incremental(settings, factory, engine, tenant_id, texts, encoder, args.new, start_id=args.n + 10)
    measure_search(settings, factory, tenant_id)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
