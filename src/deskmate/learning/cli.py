"""`deskmate learn`: retrain and roll back the ranker, knowledge gaps, feedback statistics, onboarding examples."""

from __future__ import annotations

import json
from typing import Optional

import typer
from rich.table import Table

cli_name = "learn"
cli = typer.Typer(help="The learning loop: outcome-aware ranking, versions, knowledge gaps, feedback statistics.",
                  no_args_is_help=True)

from deskmate.cli import TenantOpt, console, friendly_errors  # noqa: E402  (deskmate.cli imports this lazily)


def _open(tenant: str):
    from deskmate.accounts.service import require_tenant
    from deskmate.cli import open_store
    from deskmate.config import get_settings
    from deskmate.db import session_scope
    from deskmate.learning.hooks import configure, register

    settings = get_settings()
    configure(settings)
    register()
    _, factory = open_store(settings)
    with session_scope(factory) as session:
        tenant_id = require_tenant(session, tenant).id
    return settings, factory, tenant_id


def _fmt(v) -> str:
    return "–" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


@cli.command("retrain")
@friendly_errors
def retrain(
    holdout: float = typer.Option(0.2, min=0.01, max=0.99, help="Share of history (the most recent) replayed."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Replay at most this many held-out conversations."),
    tenant: str = TenantOpt,
):
    """Rejoin all feedback, refit the ranker, replay it against the current one; promote it if not worse."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from deskmate.learning.retrain import retrain as run

    settings, factory, _ = _open(tenant)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as progress:
        result = run(settings, factory, tenant_slug=tenant, holdout=holdout, limit=limit, progress=progress)
    table = Table("measure", "candidate", "current", title=f"ranker {result.version.version}")
    for name, value in result.scores.items():
        table.add_row(name, _fmt(value), _fmt(result.baseline.get(name)))
    console.print(table)
    console.print(f"weights {result.version.params.get('weights')}; {result.version.decision}", highlight=False)


@cli.command("versions")
@friendly_errors
def versions_(tenant: str = TenantOpt):
    """Every ranker version with its replay scores and whether it was promoted."""
    from deskmate.db import session_scope
    from deskmate.learning.versions import GATED, list_versions

    _, factory, tenant_id = _open(tenant)
    with session_scope(factory) as session:
        rows = list_versions(session, tenant_id=tenant_id)
        table = Table("version", "status", "created", *GATED, "feedback rows", "decision")
        for v in rows:
            table.add_row(v.version, v.status, v.created_at.strftime("%Y-%m-%d %H:%M"),
                          *(_fmt(v.scores.get(g)) for g in GATED), str(v.feedback_rows), v.decision)
    console.print(table if rows else "no ranker versions yet: run `deskmate learn retrain`")


@cli.command("rollback")
@friendly_errors
def rollback(version: Optional[str] = typer.Argument(None, help="Version to make current; default the previous one."),
             tenant: str = TenantOpt):
    """Make an earlier ranker version current again."""
    from deskmate.accounts.service import require_tenant
    from deskmate.db import session_scope
    from deskmate.learning.versions import rollback as run

    settings, factory, _ = _open(tenant)
    with session_scope(factory) as session:
        row = run(session, settings=settings, tenant=require_tenant(session, tenant), version=version)
        console.print(f"ranker version {row.version} is current", highlight=False)


@cli.command("gaps")
@friendly_errors
def gaps(detect: bool = typer.Option(False, "--detect", help="Look for new gaps and draft articles for them."),
         refresh: bool = typer.Option(False, "--refresh", help="With --detect: redraft open gaps too."),
         tenant: str = TenantOpt):
    """Knowledge gaps and their draft articles (publish with `deskmate learn publish GAP_ID`)."""
    from deskmate.accounts.service import require_tenant
    from deskmate.db import session_scope
    from deskmate.learning.gaps import detect_gaps, list_gaps

    _, factory, tenant_id = _open(tenant)
    with session_scope(factory) as session:
        if detect:
            detect_gaps(session, tenant=require_tenant(session, tenant), refresh=refresh)
        rows = list_gaps(session, tenant_id=tenant_id)
        table = Table("id", "topic", "status", "unhelped resolved", "share", "dismissed", "absent", "draft article", "sources")
        for g in rows:
            s = g.signals or {}
            table.add_row(str(g.id), g.topic, g.status, str(s.get("unhelped_resolved", "")), _fmt(s.get("share")),
                          str(s.get("kb_dismissed", "")), str(s.get("kb_absent", "")),
                          f"#{g.article_id} {g.title}" if g.article_id else g.title, str(len(g.sources or [])))
    console.print(table if rows else "no knowledge gaps found (run with --detect to look)")


@cli.command("publish")
@friendly_errors
def publish(gap_id: int = typer.Argument(..., help="Gap id (see `deskmate learn gaps`)."), tenant: str = TenantOpt):
    """Publish a gap's draft article as it stands: it goes into retrieval at once."""
    from deskmate.db import session_scope
    from deskmate.learning.gaps import publish_gap

    _, factory, tenant_id = _open(tenant)
    with session_scope(factory) as session:
        gap, article = publish_gap(session, tenant_id=tenant_id, gap_id=gap_id, user_id=None)
        console.print(f"published article #{article.id} {article.title!r} for {gap.topic}", highlight=False)


@cli.command("stats")
@friendly_errors
def stats(since: Optional[str] = typer.Option(None, "--since", help="ISO date or a duration back from now: 30d, 12w."),
          as_json: bool = typer.Option(False, "--json", help="Print as JSON."), tenant: str = TenantOpt):
    """Acceptance, edit and dismissal rates per suggestion type and per agent."""
    from deskmate.db import session_scope
    from deskmate.learning.feedback_stats import feedback_stats
    from deskmate.outcomes.service import parse_since

    _, factory, tenant_id = _open(tenant)
    with session_scope(factory) as session:
        result = feedback_stats(session, tenant_id=tenant_id, since=parse_since(since))
    if as_json:
        print(json.dumps(result.model_dump(mode="json"), indent=2))
        return
    table = Table("", "suggestions", "accepted", "acceptance", "edit rate", "dismissed", title="feedback by type")
    for r in [("all", result.overall)] + [(k.kind, k) for k in result.by_kind]:
        table.add_row(r[0], str(r[1].suggestions), str(r[1].accepted), _fmt(r[1].acceptance_rate),
                      _fmt(r[1].edit_rate), _fmt(r[1].dismiss_rate))
    console.print(table)
    agents = Table("agent", "type", "suggestions", "acceptance", "edit rate", title="feedback by agent")
    for a in result.by_agent:
        agents.add_row(a.agent_name or str(a.agent_id), a.kind, str(a.suggestions), _fmt(a.acceptance_rate), _fmt(a.edit_rate))
    console.print(agents)


@cli.command("onboarding")
@friendly_errors
def onboarding(reason: str = typer.Argument(..., help="Reason for contact, e.g. refund_initiate."),
               limit: int = typer.Option(5, min=1, max=20), tenant: str = TenantOpt):
    """How top agents handle a reason: the best-scoring resolved conversations."""
    from deskmate.db import session_scope
    from deskmate.learning.onboarding import onboarding_for

    _, factory, tenant_id = _open(tenant)
    with session_scope(factory) as session:
        o = onboarding_for(session, tenant_id=tenant_id, reason=reason, limit=limit)
    console.print(f"[bold]{reason}[/bold]: {o.resolved} of {o.conversations} resolved; typical path: "
                  f"{' → '.join(o.typical_path) or '–'} ({_fmt(o.path_share)} of the examples)", highlight=False)
    for e in o.examples:
        console.print(f"#{e.conversation_id} {e.agent_name or '?'}: quality {_fmt(e.quality_score)}, resolution quality "
                      f"{_fmt(e.resolution_quality)}, shift {_fmt(e.sentiment_shift)}", highlight=False)
        for text in e.replies:
            console.print(f"    “{text}”", highlight=False)
    for a in o.top_agents:
        console.print(f"top agent {a.agent_name}: {a.resolution_rate:.0%} resolved of {a.conversations}, quality "
                      f"{_fmt(a.quality_mean)}", highlight=False)


@cli.command("corrections")
@friendly_errors
def corrections_(limit: int = typer.Option(30, min=1, max=500), tenant: str = TenantOpt):
    """Agents' corrections of the reason for contact (intent training data)."""
    from deskmate.db import session_scope
    from deskmate.learning.corrections import list_corrections

    _, factory, tenant_id = _open(tenant)
    with session_scope(factory) as session:
        rows, total = list_corrections(session, tenant_id=tenant_id, limit=limit)
        table = Table("conversation", "from", "to", "source", "used by model", "when", title=f"{total} correction(s)")
        for c in rows:
            table.add_row(f"#{c.conversation_id}", c.old_reason or "–", c.new_reason, c.source, c.used_in or "–",
                          c.created_at.strftime("%Y-%m-%d %H:%M"))
    console.print(table)


@cli.command("intents")
@friendly_errors
def intents(force: bool = typer.Option(False, "--force", help="Retrain even if the labelled data did not change."),
            tenant: str = TenantOpt):
    """Retrain the workspace intent model on the labelled history, corrections included."""
    from deskmate.learning.corrections import retrain_intents

    settings, factory, tenant_id = _open(tenant)
    result = retrain_intents(settings, factory, tenant_id=tenant_id, force=force)
    if result.trained:
        console.print(f"intent model {result.version}: {result.examples} examples, {result.intents} intents", highlight=False)
    else:
        console.print(f"intent model unchanged ({result.reason})", highlight=False)
