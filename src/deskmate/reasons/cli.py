"""`deskmate reasons list|assign|rename|merge|split`: the reason catalogue from the command line."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

cli_name = "reasons"
cli = typer.Typer(help="Reasons for contact: given ones and those found by topics; rename, merge, split.",
                  no_args_is_help=True)

from deskmate.cli import TenantOpt, console, friendly_errors, open_store  # noqa: E402


def _workspace(tenant: str):
    from deskmate.accounts.service import require_tenant
    from deskmate.config import get_settings
    from deskmate.db import session_scope

    _, factory = open_store(get_settings())
    with session_scope(factory) as session:
        return factory, require_tenant(session, tenant).id


@cli.command("list")
@friendly_errors
def list_(tenant: str = TenantOpt, all_: bool = typer.Option(False, "--all", help="Also merged, split and retired ones.")):
    """The catalogue, busiest first."""
    from deskmate.db import session_scope
    from deskmate.reasons.curation import list_reasons

    factory, tenant_id = _workspace(tenant)
    with session_scope(factory) as session:
        rows = list_reasons(session, tenant_id, include_inactive=all_)
    if not rows:
        console.print("no reasons yet: import conversations, then 'deskmate reasons assign' (after topics are fitted)")
        return
    table = Table("id")
    table.add_column("key", no_wrap=True)
    table.add_column("name", overflow="fold", min_width=12)
    for column in ("source", "conversations", "from topics"):
        table.add_column(column, justify="right" if column != "source" else "left")
    table.add_column("status", overflow="fold")
    for r in rows:
        source = r["source"] + (f" (topic {r['topic']})" if r["topic"] and r["source"] == "topic" else "")
        status = r["status"] + (f" into {r['merged_into']}" if r["merged_into"] else "")
        table.add_row(str(r["id"]), r["key"], r["name"], source, str(r["conversations"]), str(r["from_topics"]), status)
    console.print(table)


@cli.command()
@friendly_errors
def assign(tenant: str = TenantOpt, refit: bool = typer.Option(False, "--refit", help="Re-fit topics first.")):
    """Give conversations without a given reason the reason of their topic."""
    from deskmate.insights import service as insights
    from deskmate.reasons.service import assign_reasons_from_topics

    factory, tenant_id = _workspace(tenant)
    if refit:
        with console.status("re-fitting topics"):
            insights.refit(factory, tenant_id, reasons=False)
    r = assign_reasons_from_topics(factory, tenant_id)
    console.print(f"{r['topics']} topics: {r['from_given']} passed on a given reason, {r['from_topics']} became reasons; "
                  f"{r['assigned']} conversations got a reason from their topic ({r['changed']} changed); "
                  f"{r['without_reason']} still without one")


@cli.command()
@friendly_errors
def rename(reason: str = typer.Argument(..., help="Reason id or key."), name: str = typer.Argument(..., help="New name."),
           tenant: str = TenantOpt):
    """Rename a reason (conversations keep its key)."""
    from deskmate.db import session_scope
    from deskmate.reasons.curation import rename_reason

    factory, tenant_id = _workspace(tenant)
    with session_scope(factory) as session:
        r = rename_reason(session, tenant_id, reason, name)
        console.print(f"reason {r.id} ({r.key}) is now {r.name!r}")


@cli.command()
@friendly_errors
def merge(reason: str = typer.Argument(..., help="Reason id or key to merge away."),
          into: str = typer.Argument(..., help="Reason id or key that absorbs it."), tenant: str = TenantOpt):
    """Merge one reason into another; its conversations follow."""
    from deskmate.db import session_scope
    from deskmate.reasons.curation import merge_reasons

    factory, tenant_id = _workspace(tenant)
    with session_scope(factory) as session:
        target = merge_reasons(session, tenant_id, reason, into)
        console.print(f"merged {reason} into {target.key} ({target.name!r})")


@cli.command()
@friendly_errors
def split(reason: str = typer.Argument(..., help="Reason id or key."), tenant: str = TenantOpt,
          parts: Optional[int] = typer.Option(None, min=2, max=20, help="How many parts (default: estimated).")):
    """Split a reason by re-clustering its conversations; each part becomes a reason."""
    from deskmate.db import session_scope
    from deskmate.reasons.curation import split_reason

    factory, tenant_id = _workspace(tenant)
    with session_scope(factory) as session:
        created = split_reason(session, tenant_id, reason, parts=parts)
        for p in created:
            console.print(f"{p.id}  {p.key}  {p.name}")
    console.print(f"split {reason} into {len(created)} reasons")
