"""The foundation CLI: init, users, stats, and one-line errors with exit code 2."""

import pytest
from typer.testing import CliRunner

from deskmate.cli import app


@pytest.fixture
def run(settings, store, monkeypatch):
    monkeypatch.setenv("DESKMATE_DB_URL", settings.database_url)
    monkeypatch.setenv("DESKMATE_DATA_DIR", str(settings.data_dir))
    from deskmate.config import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def test_help_lists_every_command():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("init", "import", "serve", "users", "stats"):
        assert command in result.output


def test_init_users_and_stats(run):
    assert run("init", "--tenant", "acme").exit_code == 0
    added = run("users", "add", "Ada", "--role", "admin", "--tenant", "acme")
    assert added.exit_code == 0, added.output
    token = added.output.strip().splitlines()[-1]
    assert token.startswith("dm_")
    listed = run("users", "list", "--tenant", "acme")
    assert "Ada" in listed.output and "admin" in listed.output
    stats = run("stats", "--tenant", "acme")
    assert stats.exit_code == 0 and "conversations" in stats.output


def test_errors_are_one_line_exit_2(run):
    bad_role = run("users", "add", "Bob", "--role", "king")
    assert bad_role.exit_code == 2 and "role must be one of" in bad_role.output
    assert "Traceback" not in bad_role.output
    missing = run("stats", "--tenant", "nobody")
    assert missing.exit_code == 2 and "no workspace" in missing.output
    bad_slug = run("init", "--tenant", "Bad Slug!")
    assert bad_slug.exit_code == 2


def test_unreachable_database_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("DESKMATE_DB_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    from deskmate.config import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["stats"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2 and "cannot open the database" in result.output
