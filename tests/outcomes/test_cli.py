"""`deskmate outcomes` commands, and the workspace preparation step."""

import pytest
from typer.testing import CliRunner

from deskmate.accounts.models import Tenant
from deskmate.cli import app
from tests.outcomes.factory import HAPPY_REFUND, store_conversation


@pytest.fixture
def run(settings, store, workspace, monkeypatch):
    monkeypatch.setenv("DESKMATE_DB_URL", settings.database_url)
    monkeypatch.setenv("DESKMATE_DATA_DIR", str(settings.data_dir))
    from deskmate.config import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def _seed(store, workspace, n=3):
    with store.session() as s:
        tenant = s.get(Tenant, workspace.tenant_id)
        return [store_conversation(s, tenant=tenant, script=HAPPY_REFUND, reason="refund_initiate",
                                   agent_id=workspace.user_ids["agent"]).id for _ in range(n)]


def test_score_report_and_show(run, store, workspace):
    ids = _seed(store, workspace)
    scored = run("outcomes", "score", "--all", "--tenant", "acme")
    assert scored.exit_code == 0, scored.output
    assert "scored 3 conversation(s)" in scored.output and "rules" in scored.output
    assert "scored 0 conversation(s), 3 already scored" in run("outcomes", "score", "--tenant", "acme").output
    team = run("outcomes", "report", "--tenant", "acme", "--since", "2026-08-01")
    assert team.exit_code == 0 and "team scorecard" in team.output and "Agent User" in team.output
    mine = run("outcomes", "report", "--agent", "agent user", "--tenant", "acme")
    assert mine.exit_code == 0 and "weekly trend" in mine.output and "2026-W32" in mine.output
    as_json = run("outcomes", "report", "--agent", str(workspace.user_ids["agent"]), "--json", "--tenant", "acme")
    assert '"conversations": 3' in as_json.output
    shown = run("outcomes", "show", str(ids[0]), "--tenant", "acme")
    assert shown.exit_code == 0 and "Policy adherence" in shown.output and "Contact about refund initiate" in shown.output
    assert "no scored conversations" in run("outcomes", "report", "--since", "1d", "--tenant", "acme").output


def test_bad_input_is_one_line_exit_2(run, workspace):
    for args, message in [
        (("outcomes", "report", "--agent", "Nobody Here", "--tenant", "acme"), "no agent"),
        (("outcomes", "score", "--since", "someday", "--tenant", "acme"), "since"),
        (("outcomes", "show", "999999", "--tenant", "acme"), "no conversation"),
        (("outcomes", "eval", "--tenant", "acme"), "no demo ground truth"),
        (("outcomes", "score", "--tenant", "nope"), "no workspace"),
    ]:
        result = run(*args)
        assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output, args


def test_prepare_workspace_scores_history_once(settings, store, workspace):
    from deskmate.outcomes.models import ConversationScore
    from deskmate.outcomes.pipeline import prepare_workspace
    from deskmate.plugins import default_prepare_steps

    _seed(store, workspace, n=2)
    with store.session() as s:
        s.query(ConversationScore).delete()
    assert [s.domain for s in default_prepare_steps()].index("outcomes") == 3  # after reasons, nlp and assist, before insights
    prepare_workspace(settings, store.sessionmaker, workspace.tenant_id, False)
    with store.session() as s:
        first = {r.conversation_id: r.scored_at for r in s.query(ConversationScore)}
    prepare_workspace(settings, store.sessionmaker, workspace.tenant_id, False)
    with store.session() as s:
        assert {r.conversation_id: r.scored_at for r in s.query(ConversationScore)} == first and len(first) == 2
