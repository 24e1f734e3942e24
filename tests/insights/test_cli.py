"""`deskmate insights ...` on the prepared workspace: every command, and one clear line with exit 2 on bad input."""

from __future__ import annotations

import csv

import pytest
from typer.testing import CliRunner

from deskmate.cli import app


@pytest.fixture
def run(prepared, monkeypatch):
    monkeypatch.setenv("DESKMATE_DB_URL", prepared.settings.database_url)
    monkeypatch.setenv("DESKMATE_DATA_DIR", str(prepared.settings.data_dir))
    from deskmate.config import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, ["insights", *args, "--tenant", "acme"])
    get_settings.cache_clear()


def test_topics_trends_alerts_search(run):
    topics = run("topics")
    assert topics.exit_code == 0, topics.output
    assert "unassigned conversations:" in topics.output and "volume" in topics.output
    trends = run("trends", "--dimension", "reason")
    assert trends.exit_code == 0 and "refund_status" in trends.output
    alerts = run("alerts")
    assert alerts.exit_code == 0 and "alert(s) in all" in alerts.output
    found = run("search", "voucher code rejected", "--mode", "text", "--limit", "5")
    assert found.exit_code == 0 and "match(es)" in found.output and "voucher" in found.output


def test_refresh_refit_and_export(run, tmp_path):
    refreshed = run("refresh")
    assert refreshed.exit_code == 0 and "built 0 record(s)" in refreshed.output
    refit = run("topics", "--refit")
    assert refit.exit_code == 0, refit.output
    assert "kept their id" in refit.output
    out = tmp_path / "records.csv"
    exported = run("export", "--format", "csv", "--out", str(out), "--reason", "damaged_item")
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(out.open()))
    assert rows and {r["reason"] for r in rows} == {"damaged_item"}
    pq = tmp_path / "records.parquet"
    assert run("export", "--format", "parquet", "--out", str(pq)).exit_code == 0 and pq.stat().st_size > 0


def test_report_is_written(run, tmp_path):
    out = tmp_path / "report.html"
    result = run("report", "--since", "3650d", "--out", str(out), "--base-url", "https://desk.example/")
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "Topics over time" in html and "Plotly" in html and "<script src=" not in html
    assert 'href="https://desk.example/insights/conversations/' in html


def test_bad_input_is_one_line_and_exit_2(run, tmp_path):
    for args in (["export", "--format", "xml", "--out", str(tmp_path / "x")], ["trends", "--dimension", "colour"],
                 ["search", "x", "--sentiment", "furious"], ["report", "--since", "last tuesday"],
                 ["alerts", "--detect", "--from", "yesterday"]):
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "error:" in result.output and "Traceback" not in result.output
