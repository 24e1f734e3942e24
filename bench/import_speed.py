"""Import speed: 10,000 canonical JSONL conversations (about 200,000 messages) into SQLite and PostgreSQL.

    .venv/bin/python bench/import_speed.py [--conversations 10000] [--postgres URL] [--batch-size 500] [--repeat 5]
    .venv/bin/python bench/import_speed.py --abcd 10042    # memory and time of streaming a full-size ABCD corpus

PostgreSQL runs when --postgres or DESKMATE_TEST_POSTGRES_URL is given, in a fresh
schema dropped afterwards. Each database gets a first import (everything created)
and a second one of the same file (everything unchanged). Texts are redacted by the
default tenant policy, as in production; a share of them carry e-mails, phone
numbers and names so the redactor does real work.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from deskmate.accounts.service import get_or_create_tenant  # noqa: E402
from deskmate.conversations.models import Message  # noqa: E402
from deskmate.db import make_engine, make_sessionmaker, migrate, session_scope  # noqa: E402
from deskmate.importers import get_importer, run_import  # noqa: E402

FIRST = ["Maria", "Tom", "Aiko", "Lena", "Omar", "Grace", "Kofi", "Eva", "Lucas", "Zoe", "Priya", "Daniel", "Sofia", "Ben"]
LAST = ["Lopez", "Becker", "Tanaka", "Fischer", "Haddad", "O'Neil", "Mensah", "Lindqvist", "Moreau", "Adams", "Novak"]
PRODUCTS = ["slim jeans", "wool jacket", "leather boots", "linen shirt", "rain coat", "running shoes"]
REASONS = {
    "refund_initiate": ["offer-refund"], "return_size": ["validate-purchase", "update-order"],
    "status_delivery_time": ["shipping-status"], "promo_code_invalid": ["ask-the-oracle", "promo-code"],
    "recover_password": ["enter-details", "send-link"], "manage_change_address": ["verify-identity", "update-account"],
    "bad_price_competitor": ["promo-code"], "status_mystery_fee": ["verify-identity", "membership"],
    "manage_cancel": ["update-order"], "missing": ["shipping-status", "offer-refund"],
}
CUSTOMER_LINES = [
    "Hi, I have a problem with my order of the {product}.", "It still hasn't arrived and the tracking hasn't moved.",
    "I was charged {amount} dollars but the page said less.", "Can you tell me when it will be delivered?",
    "The {product} is the wrong size, I need to send it back.", "Yes, that's right.", "Okay, thank you for checking.",
    "My order number is {order}.", "You can reach me at {email} if needed.", "My phone is {phone}.",
    "I'm {name}, the account is under my name.", "That works for me, thanks a lot!", "Is there anything else I need to do?",
]
AGENT_LINES = [
    "Thanks for reaching out, I'm happy to help with that.", "Could you confirm the order number for me?",
    "Let me check the status of your order.", "I can see the {product} left our warehouse two days ago.",
    "I've processed a refund of {amount} dollars to your original payment method.",
    "Thanks {name}, I found your account.", "Is there anything else I can help you with today?",
    "I'm sorry for the trouble this has caused.", "You'll get an email confirmation within the hour.",
]


def generate(path: Path, conversations: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    start = datetime(2026, 5, 1, tzinfo=timezone.utc)
    customers = [(f"cust-{i}", f"{rng.choice(FIRST)} {rng.choice(LAST)}") for i in range(max(conversations // 5, 1))]
    messages = 0
    with path.open("w") as out:
        for n in range(conversations):
            cid, name = rng.choice(customers)
            reason = rng.choice(list(REASONS))
            order = f"ord-{rng.randint(10000, 99999)}"
            t = start + timedelta(minutes=13 * n)
            slots = {"product": rng.choice(PRODUCTS), "amount": rng.randint(10, 300), "order": order, "name": name,
                     "email": f"{name.split()[0].lower()}{rng.randint(1, 99)}@example.com",
                     "phone": f"+1 415 555 {rng.randint(1000, 9999)}"}
            entries = []
            for turn in range(rng.randint(16, 24)):
                t += timedelta(seconds=rng.randint(5, 90))
                if turn % 7 == 5:
                    action = rng.choice(REASONS[reason])
                    entries.append({"role": "agent", "action": action, "values": {"order_id": order}, "time": t.isoformat()})
                else:
                    role, lines = ("customer", CUSTOMER_LINES) if turn % 2 == 0 else ("agent", AGENT_LINES)
                    entries.append({"role": role, "text": rng.choice(lines).format(**slots), "time": t.isoformat()})
            messages += len(entries)
            record = {
                "id": f"bench-{n}", "channel": rng.choice(["chat", "email"]), "started_at": entries[0]["time"],
                "ended_at": entries[-1]["time"], "status": "closed",
                "outcome": rng.choice(["resolved", "resolved", "resolved", "escalated", "abandoned"]), "reason": reason,
                "labels": [reason.split("_")[0]],
                "customer": {"id": cid, "name": name, "records": [{"kind": "order", "id": order, "amount": slots["amount"]}]},
                "agent": {"id": f"agent-{rng.randint(1, 20)}", "name": f"Agent {rng.randint(1, 20)}"},
                "entries": entries,
            }
            out.write(json.dumps(record) + "\n")
    return messages


def measure(url: str, path: Path, batch_size: int) -> list[tuple[str, float, int, object]]:
    engine = make_engine(url)
    migrate(engine)
    factory = make_sessionmaker(engine)
    with session_scope(factory) as session:
        tenant_id = get_or_create_tenant(session, slug="bench").id
    runs = []
    for label in ("first import", "re-import (unchanged)"):
        t0, c0 = time.perf_counter(), time.process_time()
        summary = run_import(factory, tenant_id=tenant_id, importer=get_importer("jsonl"), path=path,
                             batch_size=batch_size, progress=False)
        runs.append((label, time.perf_counter() - t0, time.process_time() - c0, summary))
    with factory() as session:
        stored = session.scalar(select(func.count()).select_from(Message).where(Message.tenant_id == tenant_id))
    engine.dispose()
    return [(*run, stored) for run in runs]


def abcd_corpus(path: Path, dialogues: int) -> int:
    """An ABCD-shaped {"train": [...], "dev": [...], "test": [...]} file of `dialogues` dialogues, written one
    at a time from the shipped sample with new ids (the full corpus is not in the shared data)."""
    data = Path(os.environ.get("DESKMATE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    sample = json.loads((data / "abcd" / "abcd_sample.json").read_text())
    turns = 0
    with path.open("w") as out:
        out.write('{"train": [')
        for n in range(dialogues):
            dialogue = dict(sample[n % len(sample)], convo_id=100_000 + n)
            turns += len(dialogue["original"])
            out.write(("," if n else "") + json.dumps(dialogue))
        out.write('], "dev": [], "test": []}')
    return turns


def measure_abcd(dialogues: int) -> None:
    import resource

    with tempfile.TemporaryDirectory(prefix="deskmate-bench-") as tmp:
        path = Path(tmp) / "abcd_v1.1.json"
        turns = abcd_corpus(path, dialogues)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        engine = make_engine(f"sqlite:///{Path(tmp) / 'abcd.db'}")
        migrate(engine)
        factory = make_sessionmaker(engine)
        with session_scope(factory) as session:
            tenant_id = get_or_create_tenant(session, slug="bench").id
        t0, c0 = time.perf_counter(), time.process_time()
        summary = run_import(factory, tenant_id=tenant_id, importer=get_importer("abcd"), path=path, progress=False)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"abcd: {dialogues:,} dialogues, {turns:,} turns, {path.stat().st_size / 1e6:.0f} MB of JSON; load average "
              f"{os.getloadavg()[0]:.1f}\nsqlite     abcd import {seconds:7.2f} s  {turns / seconds:9,.0f} messages/s  "
              f"(process CPU {cpu:.2f} s; created {summary.created}, rejected {summary.rejected}); peak RSS "
              f"{peak:.0f} MB, {before:.0f} MB before the import", flush=True)
        engine.dispose()


def report(name: str, runs, messages: int) -> None:
    """Wall-clock rate, and the importing process's CPU time (which other jobs on a shared machine do not inflate)."""
    for label, seconds, cpu, summary, stored in runs:
        print(f"{name:10s} {label:22s} {seconds:7.2f} s  {messages / seconds:9,.0f} messages/s  "
              f"(process CPU {cpu:.2f} s: {messages / cpu:,.0f} messages per CPU-second; created {summary.created}, "
              f"updated {summary.updated}, unchanged {summary.unchanged}, rejected {summary.rejected}; "
              f"{stored:,} messages stored)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--postgres", default=os.environ.get("DESKMATE_TEST_POSTGRES_URL"))
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure SQLite this many times (fresh database each time) and report the median and best: "
                             "on a shared virtual machine one run's wall clock varies by 20%%")
    parser.add_argument("--abcd", type=int, metavar="N",
                        help="instead: stream an ABCD-shaped corpus of N dialogues (the full one has 10,042) into SQLite")
    args = parser.parse_args()
    if args.abcd:
        measure_abcd(args.abcd)
        return 0
    with tempfile.TemporaryDirectory(prefix="deskmate-bench-") as tmp:
        path = Path(tmp) / "conversations.jsonl"
        messages = generate(path, args.conversations)
        print(f"{args.conversations:,} conversations, {messages:,} messages, {path.stat().st_size / 1e6:.1f} MB of JSONL; "
              f"batch size {args.batch_size}; {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}", flush=True)
        firsts = []
        for n in range(max(1, args.repeat)):
            runs = measure(f"sqlite:///{Path(tmp) / f'bench-{n}.db'}", path, args.batch_size)
            report("sqlite", runs, messages)
            firsts.append(messages / runs[0][1])
        if len(firsts) > 1:
            firsts.sort()
            print(f"sqlite     first import over {len(firsts)} runs: median {firsts[len(firsts) // 2]:,.0f} messages/s, "
                  f"best {firsts[-1]:,.0f}, worst {firsts[0]:,.0f}", flush=True)
        if args.postgres:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                sep = "&" if "?" in args.postgres else "?"
                report("postgresql", measure(f"{args.postgres}{sep}options=-csearch_path%3D{schema}", path,
                                             args.batch_size), messages)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
        else:
            print("postgresql skipped: give --postgres URL or set DESKMATE_TEST_POSTGRES_URL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
