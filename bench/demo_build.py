"""How long `deskmate demo` takes to generate and load its workspace, and what the workspace holds.

Builds the default demo (seed 7, 2,400 conversations) into a throw-away SQLite file (and
into PostgreSQL when DESKMATE_TEST_POSTGRES_URL is set), twice, without the domains'
preparation (model training and indexing are measured by their own benchmarks).

    .venv/bin/python bench/demo_build.py [--seed 7] [--conversations 2400]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sqlalchemy import create_engine, text

from deskmate.config import Settings
from deskmate.demo.build import build_demo


def _figures(build) -> None:
    d = build.data
    truth = d.truth["conversations"]
    n = len(truth)
    outcomes = Counter(t["outcome"] for t in truth.values())
    issue = d.truth["emerging_issue"]
    print(f"  conversations {n} ({len(d.records)} imported, {len(d.live)} held out as live), "
          f"messages imported {sum(len(r['entries']) for r in d.records)}")
    print("  outcomes " + ", ".join(f"{k} {v / n:.1%}" for k, v in outcomes.most_common()))
    print(f"  policy broken in {sum(not t['policy_ok'] for t in truth.values()) / n:.1%}, "
          f"reopens {sum(1 for t in truth.values() if t['reopen_of'])}, "
          f"reasons {len({t['reason'] for t in truth.values()})}, customers {len({t['customer'] for t in truth.values()})}")
    print(f"  emerging issue '{issue['topic']}' from {issue['start_date']}: {len(issue['external_ids'])} conversations, "
          f"daily {list(issue['daily_counts'].values())}")
    print(f"  articles published {len(d.articles)}, held back {len(d.held_back)}")


def _run(label: str, settings: Settings, seed: int, conversations: int) -> None:
    for attempt in ("first build", "second build (idempotent)"):
        b = build_demo(settings, seed=seed, conversations=conversations, tenant="bench")
        s = b.imported
        secs = ", ".join(f"{k} {v:.2f}s" for k, v in b.seconds.items())
        print(f"{label} {attempt}: {secs}; created {s.created} updated {s.updated} unchanged {s.unchanged}")
    _figures(b)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--conversations", type=int, default=2400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        _run("sqlite", Settings(data_dir=Path(tmp) / "sqlite"), args.seed, args.conversations)
        base = os.environ.get("DESKMATE_TEST_POSTGRES_URL")
        if base:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                sep = "&" if "?" in base else "?"
                url = f"{base}{sep}options=-csearch_path%3D{schema}"
                _run("postgresql", Settings(data_dir=Path(tmp) / "pg", db_url=url), args.seed, args.conversations)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
        else:
            print("postgresql: skipped (set DESKMATE_TEST_POSTGRES_URL)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
