"""`deskmate replay`: train on the earlier history, replay the rest as if live, print and write the figures."""

import json

from typer.testing import CliRunner


def test_replay_command_scores_held_out_conversations(demo, tmp_path, monkeypatch):
    from deskmate.cli import app
    from deskmate.config import get_settings

    monkeypatch.setenv("DESKMATE_DATA_DIR", str(demo.settings.data_dir))
    monkeypatch.setenv("DESKMATE_DB_URL", demo.settings.database_url)
    get_settings.cache_clear()
    out = tmp_path / "replay.json"
    try:
        result = CliRunner().invoke(app, ["replay", "--holdout", "0.2", "--tenant", demo.tenant, "--limit", "6",
                                          "--json", str(out)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "next_action_hit@1" in result.output and "reply_recall@3" in result.output
    report = json.loads(out.read_text())
    assert report["replayed"] == 6 and report["trained_on"] > 100
    figures = report["figures"]
    for name in ("next_action_hit@1", "next_action_hit@3", "reply_recall@1", "reply_recall@3",
                 "reply_recall@3_of_100", "knowledge_hit@3"):
        assert figures[name] is not None and 0.0 <= figures[name] <= 1.0, name
    assert figures["next_action_hit@3"] >= figures["next_action_hit@1"]
    assert figures["reply_recall@3"] >= figures["reply_recall@1"]
    assert report["counts"]["next_action_hit@1"] > 0 and report["latency_ms"]["updates"] > 0


def test_replay_refuses_bad_holdout_and_unknown_workspace(demo, monkeypatch):
    from deskmate.cli import app
    from deskmate.config import get_settings

    monkeypatch.setenv("DESKMATE_DATA_DIR", str(demo.settings.data_dir))
    monkeypatch.setenv("DESKMATE_DB_URL", demo.settings.database_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        bad = runner.invoke(app, ["replay", "--holdout", "1.5", "--tenant", demo.tenant])
        assert bad.exit_code == 2
        missing = runner.invoke(app, ["replay", "--tenant", "nobody"])
        assert missing.exit_code == 2 and "nobody" in missing.output
    finally:
        get_settings.cache_clear()
