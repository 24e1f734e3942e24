"""`deskmate import SOURCE PATH`: the summary on success, one line and exit code 2 on the user's mistakes."""

from __future__ import annotations

import pytest
from tests.test_cli import run  # noqa: F401 - the CLI runner on this test's store

from .conftest import DATA


def test_import_prints_the_summary(run):
    first = run("import", "jsonl", str(DATA / "conversations.jsonl"), "--tenant", "acme")
    assert first.exit_code == 0, first.output
    assert "created" in first.output and "│       5 │       0 │         0 │        0 │" in first.output
    assert "19 messages written" in first.output
    again = run("import", "jsonl", str(DATA / "conversations.jsonl"), "--tenant", "acme", "--batch-size", "2")
    assert again.exit_code == 0 and "│       0 │       0 │         5 │        0 │" in again.output
    stats = run("stats", "--tenant", "acme")
    assert "conversations" in stats.output and "19" in stats.output


def test_rejections_are_listed_and_strict_exits_2(run):
    ok = run("import", "zendesk", str(DATA / "zendesk_export.ndjson"), "--tenant", "acme")
    assert ok.exit_code == 0
    assert "rejected line 3: status 'archived' is not a Zendesk status" in ok.output
    strict = run("import", "chatwoot", str(DATA / "chatwoot_events_day2.jsonl"), "--tenant", "acme", "--strict")
    assert strict.exit_code == 2
    assert "--strict: 1 malformed record(s); nothing was written" in strict.output and "Traceback" not in strict.output


@pytest.mark.parametrize("args, message", [
    (("import", "freshdesk", DATA / "conversations.jsonl"), "unknown import source 'freshdesk'"),
    (("import", "jsonl", DATA / "missing.jsonl"), "no such file"),
    (("import", "jsonl", DATA), "is a directory"),
    (("import", "csv", DATA / "zendesk_tickets.json"), "the CSV header lacks column(s) conversation_id"),
])
def test_user_mistakes_are_one_error_line_exit_2(run, args, message):
    result = run(*(str(a) for a in args))
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in result.output
    assert "Traceback" not in result.output
