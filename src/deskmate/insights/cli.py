"""`deskmate insights ...`: refresh records, topics (re-fit), trends, alerts, search, export, report."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

cli_name = "insights"
cli = typer.Typer(help="Insights: structured records, topics, trends, emerging issues, search and reports.",
                  no_args_is_help=True)

from deskmate.cli import TenantOpt, console, friendly_errors, open_store  # noqa: E402


def _workspace(tenant: str):
    from deskmate.accounts.service import require_tenant
    from deskmate.config import get_settings
    from deskmate.db import session_scope

    settings = get_settings()
    _, factory = open_store(settings)
    with session_scope(factory) as session:
        return settings, factory, require_tenant(session, tenant).id


def _filters(since, until, topic, reason, intent, outcome, sentiment, agent, tier):
    from deskmate.insights.search import Filters
    from deskmate.insights.service import parse_since

    return Filters(since=parse_since(since), until=parse_since(until), topic=topic, reason=reason, intent=intent,
                   outcome=outcome, sentiment=sentiment, agent_id=agent, tier=tier)


@cli.command()
@friendly_errors
def refresh(tenant: str = TenantOpt, full: bool = typer.Option(False, "--full", help="Rebuild every record, not only changed ones.")):
    """Build insight records for new or changed conversations (incremental unless --full)."""
    from deskmate.insights import service

    settings, factory, tenant_id = _workspace(tenant)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console) as progress:
        task = progress.add_task("insight records", total=None)
        result = service.refresh(settings, factory, tenant_id, full=full,
                                 on_progress=lambda n, total: progress.update(task, total=total, advance=n))
    console.print(f"built {result['built']} record(s), {result['unchanged']} unchanged, "
                  f"{result['assigned']} assigned to topics, in {result['seconds']}s")


@cli.command()
@friendly_errors
def topics(tenant: str = TenantOpt, refit: bool = typer.Option(False, "--refit", help="Re-discover topics (the scheduled batch job)."),
           since: Optional[str] = typer.Option(None, help="Volumes (and a re-fit) over conversations since: 30d, 12w or a date.")):
    """Topics with their parents, distinctive terms, representative message and volume."""
    from deskmate.db import session_scope
    from deskmate.insights import service, topics as topics_mod

    settings, factory, tenant_id = _workspace(tenant)
    period = service.parse_since(since)
    if refit:
        with console.status("re-fitting topics"):
            fit = service.refit(factory, tenant_id, since=period)
        console.print(f"{fit['topics']} topics ({fit['kept']} kept their id, {fit['created']} new, {fit['retired']} retired) "
                      f"in {fit['parents']} groups from {fit['conversations']} conversations; "
                      f"{fit['unassigned']} unassigned; {fit['seconds']}s")
    with session_scope(factory) as session:
        tree = topics_mod.topic_tree(session, tenant_id, since=period)
        unassigned = topics_mod.unassigned_count(session, tenant_id)
    if not tree:
        console.print("no topics yet: run 'deskmate insights topics --refit'")
        return
    table = Table("#", "topic", "volume", "terms", "representative")
    for parent in tree:
        table.add_row(str(parent["number"] or ""), f"[bold]{parent['label']}[/bold]", str(parent["volume"]), "", "")
        for t in parent["topics"]:
            table.add_row(str(t["number"]), "  " + t["label"], str(t["volume"]), ", ".join(t["terms"][:5]),
                          t["representative"][:70])
    console.print(table)
    console.print(f"unassigned conversations: {unassigned}")


@cli.command()
@friendly_errors
def trends(tenant: str = TenantOpt, dimension: str = typer.Option("topic", help="topic, reason, intent or product."),
           interval: str = typer.Option("week", help="day or week."), since: Optional[str] = typer.Option(None),
           top: int = typer.Option(10, min=1, max=100)):
    """Volume per period for the busiest topics (or reasons, intents, products)."""
    from deskmate.db import session_scope
    from deskmate.insights import service, trends as trends_mod

    _, factory, tenant_id = _workspace(tenant)
    with session_scope(factory) as session:
        data = trends_mod.volume(session, tenant_id, dimension, interval=interval, since=service.parse_since(since), top=top)
    if not data["periods"]:
        console.print("no insight records yet: run 'deskmate insights refresh'")
        return
    shown = data["periods"][-6:]
    table = Table(title=f"{dimension} per {interval} (last {len(shown)})")
    table.add_column(dimension, min_width=24, overflow="fold")
    for period in shown:
        table.add_column(period[5:], justify="right")
    table.add_column("total", justify="right")
    for s in data["series"]:
        table.add_row(s["label"][:40], *[str(c) for c in s["counts"][-len(shown):]], str(s["total"]))
    console.print(table)


@cli.command()
@friendly_errors
def alerts(tenant: str = TenantOpt, detect: bool = typer.Option(False, "--detect", help="Run detection first and push new alerts."),
           day_from: Optional[str] = typer.Option(None, "--from", help="With --detect: first day to test (YYYY-MM-DD)."),
           limit: int = typer.Option(20, min=1, max=500)):
    """Emerging-issue alerts, newest first."""
    from deskmate.db import session_scope
    from deskmate.errors import InvalidInput
    from deskmate.insights import service

    settings, factory, tenant_id = _workspace(tenant)
    if detect:
        try:
            start = date.fromisoformat(day_from) if day_from else None
        except ValueError:
            raise InvalidInput(f"--from: {day_from!r} is not a date like 2026-08-01") from None
        result = service.detect_and_push(settings, factory, tenant_id, day_from=start)
        console.print(f"tested {result['days']} day(s): {result['alerts']} new alert(s), {result['pushed']} pushed")
    with session_scope(factory) as session:
        rows, total = service.list_alerts(session, tenant_id, limit=limit)
        table = Table("id", "day", "kind", "alert", "phrases", "examples")
        for a in rows:
            table.add_row(str(a.id), a.day.date().isoformat(), a.kind, a.title, ", ".join(a.terms[:4]),
                          ", ".join(map(str, a.conversation_ids[:3])))
    console.print(table)
    console.print(f"{total} alert(s) in all")


@cli.command()
@friendly_errors
def search(query: str = typer.Argument(..., help="Words or a question in plain language."), tenant: str = TenantOpt,
           mode: str = typer.Option("hybrid", help="hybrid, text or semantic."), since: Optional[str] = typer.Option(None),
           until: Optional[str] = typer.Option(None), topic: Optional[int] = typer.Option(None, help="Topic number."),
           reason: Optional[str] = typer.Option(None), intent: Optional[str] = typer.Option(None),
           outcome: Optional[str] = typer.Option(None), sentiment: Optional[str] = typer.Option(None, help="negative, neutral or positive."),
           agent: Optional[int] = typer.Option(None, help="Agent user id."), tier: Optional[str] = typer.Option(None),
           limit: int = typer.Option(10, min=1, max=200)):
    """Find conversations by words and by meaning, filtered."""
    from deskmate.db import session_scope
    from deskmate.insights.search import search as run

    settings, factory, tenant_id = _workspace(tenant)
    with session_scope(factory) as session:
        result = run(session, settings, tenant_id, query, mode=mode, limit=limit,
                     filters=_filters(since, until, topic, reason, intent, outcome, sentiment, agent, tier))
    table = Table("conversation", "started", "topic", "outcome", "opening")
    for h in result["hits"]:
        table.add_row(str(h["conversation_id"]), h["started_at"][:10], (h["topic"] or {}).get("label", "")[:30],
                      h["outcome"] or "", h["snippet"][:90])
    console.print(table)
    console.print(f"{result['total']} match(es); each opens at /insights/conversations/<id> in the web app")


@cli.command()
@friendly_errors
def export(tenant: str = TenantOpt, format: str = typer.Option("csv", "--format", help="csv or parquet."),
           out: Path = typer.Option(..., "--out", help="File to write."), since: Optional[str] = typer.Option(None),
           until: Optional[str] = typer.Option(None), topic: Optional[int] = typer.Option(None),
           reason: Optional[str] = typer.Option(None), outcome: Optional[str] = typer.Option(None)):
    """Write the insight table (one row per conversation) as CSV or Parquet."""
    from deskmate.db import session_scope
    from deskmate.insights.export import export as run

    _, factory, tenant_id = _workspace(tenant)
    with session_scope(factory) as session:
        n = run(session, tenant_id, fmt=format, out=out,
                filters=_filters(since, until, topic, reason, None, outcome, None, None, None))
    console.print(f"wrote {n} record(s) to {out}")


@cli.command()
@friendly_errors
def report(tenant: str = TenantOpt, since: str = typer.Option("30d", help="Period: 30d, 12w or a date."),
           out: Path = typer.Option(Path("report.html"), "--out", help="HTML file to write."),
           base_url: str = typer.Option("", "--base-url", help="Deskmate's address, to link example conversations.")):
    """A self-contained HTML report with charts and customer quotes (opens offline)."""
    from deskmate.db import session_scope
    from deskmate.insights.report import write_report
    from deskmate.insights.service import parse_since

    _, factory, tenant_id = _workspace(tenant)
    with session_scope(factory) as session:
        write_report(session, tenant_id, out, since=parse_since(since), base_url=base_url)
    console.print(f"wrote {out} ({out.stat().st_size // 1024} KB)")
