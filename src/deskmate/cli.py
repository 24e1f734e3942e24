"""The `deskmate` command. Domains add sub-commands by exposing `cli` (a Typer app) in `<domain>/cli.py`."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from deskmate.config import Settings, get_settings
from deskmate.errors import DeskmateError

console = Console()
err = Console(stderr=True)

app = typer.Typer(
    help="Deskmate: a self-hosted AI copilot and intelligence engine for support teams.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
users_app = typer.Typer(help="Manage users and their API tokens.", no_args_is_help=True)
app.add_typer(users_app, name="users")

TenantOpt = typer.Option("default", "--tenant", "-t", envvar="DESKMATE_TENANT", help="Workspace (tenant) slug.")


def fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def friendly_errors(fn):
    """Turn domain errors and bad files into one clear line and exit code 2, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except DeskmateError as exc:
            fail(str(exc))
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            fail(f"{exc.strerror}: {exc.filename}")
        except KeyboardInterrupt:
            fail("interrupted; run the same command again to resume", code=130)

    return wrapper


def open_store(settings: Settings | None = None):
    """Engine + sessionmaker on a migrated database; its sessions carry the default listeners (`deskmate.plugins`)."""
    from deskmate.conversations.events import bind_events
    from deskmate.db import make_engine, make_sessionmaker, migrate
    from deskmate.plugins import default_events

    settings = settings or get_settings()
    try:
        engine = make_engine(settings.database_url)
        migrate(engine)
    except Exception as exc:  # an unreachable server or a bad URL is the user's to fix
        if isinstance(exc, DeskmateError):
            raise
        raise DeskmateError(f"cannot open the database {settings.database_url}: {str(exc).splitlines()[0]}") from exc
    factory = make_sessionmaker(engine)
    bind_events(factory, default_events(settings))
    return engine, factory


@app.command()
@friendly_errors
def init(tenant: str = TenantOpt, name: Optional[str] = typer.Option(None, help="Display name of the workspace.")):
    """Create the database (or migrate it) and a workspace."""
    from deskmate.accounts.service import get_or_create_tenant
    from deskmate.db import session_scope

    settings = get_settings()
    _, factory = open_store(settings)
    with session_scope(factory) as session:
        t = get_or_create_tenant(session, slug=tenant, name=name)
        console.print(f"workspace [bold]{t.slug}[/bold] ready in {settings.database_url}")


@app.command("import")
@friendly_errors
def import_(
    source: str = typer.Argument(
        ..., help="jsonl, csv, zendesk, chatwoot, abcd, abcd-guidelines or abcd-kb (formats: docs/formats.md)."
    ),
    path: Path = typer.Argument(..., help="File to import."),
    tenant: str = TenantOpt,
    strict: bool = typer.Option(False, "--strict", help="Abort with nothing written if any record is malformed."),
    batch_size: int = typer.Option(500, min=1, help="Records per transaction."),
):
    """Import history from a file; re-running it is safe (records update in place)."""
    from deskmate.accounts.service import get_or_create_tenant
    from deskmate.db import session_scope
    from deskmate.importers import get_importer, run_import

    importer = get_importer(source)
    if not path.exists():
        fail(f"no such file: {path}")
    _, factory = open_store()
    with session_scope(factory) as session:
        tenant_id = get_or_create_tenant(session, slug=tenant).id
    summary = run_import(factory, tenant_id=tenant_id, importer=importer, path=path, strict=strict, batch_size=batch_size)
    table = Table(title=f"import {source} {path.name}")
    for col in ("created", "updated", "unchanged", "rejected"):
        table.add_column(col, justify="right")
    table.add_row(*(str(getattr(summary, c)) for c in ("created", "updated", "unchanged", "rejected")))
    console.print(table)
    if summary.messages:
        console.print(f"{summary.messages:,} messages written in {summary.seconds:.1f} s")
    for rejection in summary.rejections[:20]:
        err.print(f"  rejected {rejection}", highlight=False, soft_wrap=True)
    if len(summary.rejections) > 20:
        err.print(f"  … and {len(summary.rejections) - 20} more")
    if summary.aborted:
        fail(f"--strict: {summary.rejected} malformed record(s); nothing was written")


@users_app.command("add")
@friendly_errors
def users_add(
    name: str = typer.Argument(..., help="The user's name."),
    role: str = typer.Option("agent", "--role", "-r", help="agent, supervisor or admin."),
    email: Optional[str] = typer.Option(None, "--email"),
    tenant: str = TenantOpt,
):
    """Add a user and print their API token (shown once, stored hashed)."""
    from deskmate.accounts.service import create_user, get_or_create_tenant, issue_token
    from deskmate.db import session_scope

    _, factory = open_store()
    with session_scope(factory) as session:
        t = get_or_create_tenant(session, slug=tenant)
        user = create_user(session, tenant_id=t.id, name=name, email=email, role=role)
        token = issue_token(session, user_id=user.id)
    console.print(f"user {user.id} {name} ({role}) in {tenant}; token, shown once:")
    print(token)


@users_app.command("list")
@friendly_errors
def users_list(tenant: str = TenantOpt):
    """List the workspace's users."""
    from deskmate.accounts.service import list_users, require_tenant
    from deskmate.db import session_scope

    _, factory = open_store()
    with session_scope(factory) as session:
        t = require_tenant(session, tenant)
        table = Table("id", "name", "role", "email", "external id")
        for u in list_users(session, tenant_id=t.id):
            table.add_row(str(u.id), u.name, u.role, u.email or "", u.external_id or "")
    console.print(table)


@app.command()
@friendly_errors
def stats(tenant: str = TenantOpt):
    """Counts of what the workspace holds."""
    from sqlalchemy import func, select

    from deskmate.accounts.models import User
    from deskmate.accounts.service import require_tenant
    from deskmate.conversations.models import Conversation, Message
    from deskmate.customers.models import Customer, CustomerRecord
    from deskmate.db import session_scope
    from deskmate.knowledge.models import Article, Procedure

    _, factory = open_store()
    with session_scope(factory) as session:
        t = require_tenant(session, tenant)
        table = Table("what", "count", title=f"workspace {t.slug}")
        for label, model in [
            ("users", User), ("customers", Customer), ("customer records", CustomerRecord),
            ("conversations", Conversation), ("messages", Message), ("articles", Article), ("procedures", Procedure),
        ]:
            n = session.scalar(select(func.count()).select_from(model).where(model.tenant_id == t.id))
            table.add_row(label, str(n))
        for outcome, n in session.execute(
            select(Conversation.outcome, func.count()).where(Conversation.tenant_id == t.id).group_by(Conversation.outcome)
        ):
            table.add_row(f"  outcome {outcome or 'none'}", str(n))
    console.print(table)


@app.command()
@friendly_errors
def prepare(tenant: str = TenantOpt):
    """Train models, build indexes, score and analyse a workspace's history (run after an import)."""
    from deskmate.accounts.service import require_tenant
    from deskmate.db import session_scope
    from deskmate.prepare import prepare_workspace_all, print_report

    settings = get_settings()
    engine, factory = open_store(settings)
    with session_scope(factory) as session:
        tenant_id = require_tenant(session, tenant).id
    report = prepare_workspace_all(settings, factory, tenant_id, console=console)
    print_report(console, report)
    engine.dispose()
    if report.failed:
        fail(f"{len(report.failed)} preparation step(s) failed: {', '.join(s.domain for s in report.failed)}")


@app.command()
@friendly_errors
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, help="Worker processes."),
):
    """Serve the API and the web app."""
    import uvicorn

    open_store()  # migrate once here, not in every worker
    if workers > 1 and not os.environ.get("DESKMATE_ENCODER_THREADS"):  # the workers inherit it
        os.environ["DESKMATE_ENCODER_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
    console.print(f"Deskmate on http://{host}:{port}  (API docs at /docs)")
    uvicorn.run("deskmate.app:build_from_env", factory=True, host=host, port=port, workers=workers, log_level="warning")


def _register_domain_commands() -> None:
    from deskmate.app import domain_modules

    for module in domain_modules("cli"):
        sub = getattr(module, "cli", None)
        if sub is not None:
            app.add_typer(sub, name=getattr(module, "cli_name", module.__name__.split(".")[1]))
        for command in getattr(module, "commands", []):  # top-level commands such as `demo`, `replay`
            app.command(command.__name__.rstrip("_").replace("_", "-"))(friendly_errors(command))


_register_domain_commands()


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
