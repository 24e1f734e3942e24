"""Kill an import half-way (SIGKILL inside a batch, after its rows were sent), run it again: the store
ends exactly as after one clean run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

from sqlalchemy import func, select

from deskmate.conversations.models import Conversation

from .conftest import DATA, counts, do_import, dump

# Runs the import in another process and kills that process right before its third
# batch commits: the batch's inserts are in the transaction, nothing of it is committed.
CHILD = textwrap.dedent("""
    import os, signal, sys
    from sqlalchemy import event
    from deskmate.db import make_engine, make_sessionmaker
    from deskmate.importers import get_importer, run_import

    url, path, tenant_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
    factory = make_sessionmaker(make_engine(url))
    commits = 0

    @event.listens_for(factory, "before_commit")
    def die_in_third_batch(session):
        global commits
        commits += 1
        if commits == 3:
            os.kill(os.getpid(), signal.SIGKILL)

    run_import(factory, tenant_id=tenant_id, importer=get_importer("jsonl"), path=path, batch_size=4, progress=False)
""")


def history(path) -> int:
    """23 records from the fixture's five: new ids, customers shared across batches, one conversation twice."""
    base = [json.loads(line) for line in (DATA / "conversations.jsonl").read_text().splitlines()]
    records = []
    for n in range(22):
        record = json.loads(json.dumps(base[n % len(base)]))
        record["id"] = f"{record['id']}-{n}"
        record["entries"][0]["text"] += f" (case {n})"
        records.append(record)
    update = json.loads(json.dumps(records[1]))
    update["outcome"], update["labels"] = "resolved", ["traced"]
    records.append(update)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return len(records)


def test_killed_import_resumes_to_the_same_store(store, workspace, tmp_path):
    path = tmp_path / "history.jsonl"
    history(path)
    killed = subprocess.run([sys.executable, "-c", CHILD, store.url, str(path), str(workspace.tenant_id)],
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Conversation)) == 8  # two whole batches, nothing of the third

    resumed = do_import(store, workspace.tenant_id, "jsonl", path, batch_size=4)
    assert counts(resumed) == (22 - 8, 1, 8, 0)
    clean = do_import(store, workspace.other_tenant_id, "jsonl", path, batch_size=4)
    assert counts(clean) == (22, 1, 0, 0)
    assert dump(store, workspace.tenant_id) == dump(store, workspace.other_tenant_id)
    # the file holds two versions of one conversation: a re-run passes through both, and ends on the last
    assert counts(do_import(store, workspace.tenant_id, "jsonl", path)) == (0, 2, 21, 0)
    assert dump(store, workspace.tenant_id) == dump(store, workspace.other_tenant_id)
