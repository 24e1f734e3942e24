"""Scoring speed: 10,000 demo conversations through the whole outcome scorer (goal: under a minute on 2 cores).

Builds a throw-away SQLite workspace with the demo generator (history and live conversations
imported together), fits the resolution model on its labels, then times bulk scoring of every
conversation: reading transcripts, sentiment, features, the model, the scorecard, summaries
and writing the score rows.

    .venv/bin/python bench/outcomes_speed.py [--conversations 10000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def build_workspace(root: Path, conversations: int):
    from deskmate.accounts.service import get_or_create_tenant
    from deskmate.config import Settings
    from deskmate.db import make_engine, make_sessionmaker, migrate, session_scope
    from deskmate.demo.generator import generate
    from deskmate.importers.runner import import_records
    from deskmate.knowledge.models import ArticleCreate
    from deskmate.knowledge.service import create_article, upsert_procedure

    settings = Settings(data_dir=root)
    engine = make_engine(settings.database_url)
    migrate(engine)
    sessionmaker = make_sessionmaker(engine)
    data = generate(seed=11, conversations=conversations)
    with session_scope(sessionmaker) as session:
        tenant_id = get_or_create_tenant(session, slug="bench", name="Outcomes bench").id
        article_ids = {a.id: create_article(session, tenant_id=tenant_id, data=ArticleCreate(
            title=a.title, body=a.body, tags=list(a.tags), external_id=a.id)).id for a in data.articles}
        for p in data.procedures:
            upsert_procedure(session, tenant_id=tenant_id, reason=p["reason"], name=p["name"], actions=p["actions"],
                             article_id=article_ids.get(p["article"]))
    summary = import_records(sessionmaker, tenant_id=tenant_id, records=data.records + data.live, source="demo")
    return settings, sessionmaker, tenant_id, summary.created


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, default=None, help="Build the workspace here and keep it.")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="deskmate-outcomes-bench-"))
    try:
        return measure(root, args.conversations)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


def measure(root: Path, conversations: int) -> int:
    from deskmate.db import session_scope
    from deskmate.outcomes.history import score_history
    from deskmate.outcomes.service import train_resolution_model

    t0 = time.perf_counter()
    settings, sessionmaker, tenant_id, n = build_workspace(root, conversations)
    print(f"workspace: {n} conversations imported in {time.perf_counter() - t0:.1f} s ({settings.database_url})")
    t0 = time.perf_counter()
    with session_scope(sessionmaker) as session:
        model = train_resolution_model(session, settings=settings, tenant_id=tenant_id)
    print(f"resolution model fitted on {model.n_train_} labelled conversations in {time.perf_counter() - t0:.1f} s")
    t0, cpu0 = time.perf_counter(), time.process_time()
    run = score_history(sessionmaker, settings=settings, tenant_id=tenant_id, rescore=True, progress=False)
    took, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    print(f"scored {run.scored} conversations in {took:.1f} s wall, {cpu:.1f} s CPU: {run.scored / took:.0f} "
          f"conversations/s ({1000 * took / max(1, run.scored):.2f} ms each), resolution by {run.resolution_source}")
    # The machine is shared: wall time rises with other work, CPU time is what scoring itself costs.
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"goal (10,000 in under 60 s): {'met' if run.scored >= 10_000 and took < 60 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
