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
    # Every figure beside its baselines, computed on the same moments; shown in the table too.
    baselines = report["baselines"]
    assert set(baselines["next_action_hit@1"]) == {"most_frequent", "by_reason", "by_reason_and_previous"}
    assert set(baselines["reply_recall@1_of_100"]) == {"nearest_context", "chance"}
    assert set(baselines["intent_accuracy_turn1"]) == {"majority", "tfidf_logreg"}
    assert all(0.0 <= v <= 1.0 for b in baselines.values() for v in b.values() if v is not None)
    assert "baselines" in result.output and "most_frequent" in result.output
    # The demo records outcomes: alerts are judged by them, without the demo's ground truth.
    assert report["counts"]["alert_precision"] == sum(a["judged"] for a in report["alerts"].values())


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


def test_a_tie_is_a_miss():
    import numpy as np

    from deskmate.assist.baselines import rank_of_real

    assert rank_of_real(np.zeros(100)) == 99  # every score equal (nothing learned): last, not first
    assert rank_of_real(np.array([0.5, 0.5, 0.1])) == 1  # one distractor as good as the real reply: not @1
    assert rank_of_real(np.array([0.9, 0.5, 0.1])) == 0
    assert rank_of_real(np.array([0.2, 0.5, 0.1, 0.7])) == 2


def _noise_history(n: int, seed: int) -> list[dict]:
    """Conversations whose reason, actions and replies are drawn independently of what the customer says:
    there is nothing to learn, so any model replayed on them can only score at chance."""
    import random
    from datetime import datetime, timedelta, timezone

    rng = random.Random(seed)
    subjects = ["the parcel", "my invoice", "the garden hose", "a blue jacket", "the hotel room", "my bicycle",
                "the concert ticket", "a kitchen table", "the phone plan", "my library card"]
    asks = ["I have a question about", "Something is wrong with", "Can you help me with", "I want to talk about",
            "Please look into", "I am calling about"]
    openers = ["Certainly,", "Of course,", "Alright,", "Thanks for waiting,", "Good news,", "Sorry about that,",
               "Let me see,", "Understood,"]
    middles = ["the weather in Lisbon is mild", "our office closes early on Fridays", "the river flooded last spring",
               "penguins cannot fly", "the museum opens a new wing", "tea grows on hillsides", "the train was repainted",
               "chess clubs meet on Tuesdays", "volcanoes can be dormant", "the bakery sells rye bread",
               "owls hunt at night", "the bridge is made of steel"]
    closers = ["anything else?", "is that clear?", "shall I continue?", "does that help?"]
    actions, weights = ["check-account", "send-link", "open-ticket", "apply-credit"], [0.55, 0.2, 0.15, 0.1]
    reasons, reason_weights = ["billing", "delivery", "account"], [0.5, 0.3, 0.2]
    start = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    records = []
    for i in range(n):
        t = start + timedelta(hours=i)
        entries = []
        for turn in range(4):
            t += timedelta(seconds=30)
            entries.append({"role": "customer", "text": f"{rng.choice(asks)} {rng.choice(subjects)}.", "time": t.isoformat()})
            if turn in (1, 2):
                t += timedelta(seconds=5)
                entries.append({"role": "agent", "action": rng.choices(actions, weights)[0], "time": t.isoformat()})
            t += timedelta(seconds=30)
            entries.append({"role": "agent", "text": f"{rng.choice(openers)} {rng.choice(middles)}, {rng.choice(closers)}",
                            "time": t.isoformat()})
        records.append({"id": f"noise-{i}", "status": "closed", "outcome": "resolved",
                        "reason": rng.choices(reasons, reason_weights)[0], "entries": entries,
                        "customer": {"id": f"c-{i}"}, "agent": {"id": "a-1", "name": "Robin"}})
    return records


def test_a_model_that_learned_nothing_scores_at_chance(tmp_path):
    from deskmate.accounts.service import get_or_create_tenant
    from deskmate.assist.replay import run_replay
    from deskmate.config import Settings
    from deskmate.db import make_engine, make_sessionmaker, migrate, session_scope
    from deskmate.importers import import_records
    from tests.conftest import shared_data_dir

    settings = Settings(data_dir=tmp_path / "data", db_url=f"sqlite:///{tmp_path / 'noise.db'}", data=shared_data_dir())
    engine = make_engine(settings.database_url)
    migrate(engine)
    factory = make_sessionmaker(engine)
    with session_scope(factory) as session:
        tenant_id = get_or_create_tenant(session, slug="noise").id
    summary = import_records(factory, tenant_id=tenant_id, records=_noise_history(200, seed=5), source="test")
    assert summary.created == 200
    report = run_replay(settings, factory, tenant_slug="noise", holdout=0.25)
    engine.dispose()
    figures, counts, baselines = report.figures, report.counts, report.baselines

    # The real reply among 100 candidates: chance is 1 in 100 (the harness says so beside the figure).
    assert baselines["reply_recall@1_of_100"]["chance"] == 0.01
    assert counts["reply_recall@1_of_100"] >= 150
    assert figures["reply_recall@1_of_100"] <= 0.05, figures
    assert figures["reply_recall@3_of_100"] <= 0.10, figures
    # Next action: nothing beats "the most frequent action" on i.i.d. moves.
    assert counts["next_action_hit@1"] == 100
    assert 0.35 <= baselines["next_action_hit@1"]["most_frequent"] <= 0.75
    assert figures["next_action_hit@1"] <= baselines["next_action_hit@1"]["most_frequent"] + 0.1, (figures, baselines)
    # Intent: no better than always answering the majority reason.
    majority = baselines["intent_accuracy_turn1"]["majority"]
    assert "tfidf_logreg" in baselines["intent_accuracy_turn1"]
    if figures["intent_accuracy_turn1"] is not None:
        assert figures["intent_accuracy_turn1"] <= majority + 0.15, (figures, baselines)
    # Alerts on a history that records outcomes are judged by them (no demo ground truth involved).
    assert report.counts["alert_precision"] == sum(a["judged"] for a in report.alerts.values())
