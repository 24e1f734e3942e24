"""`deskmate outcomes`: score history, print agent / team reports and coaching, evaluate on the demo workspace."""

from __future__ import annotations

import json

import typer
from rich.table import Table

cli_name = "outcomes"
cli = typer.Typer(help="Outcome metrics: resolution, customer confidence, quality scorecards, coaching.",
                  no_args_is_help=True)

from deskmate.cli import TenantOpt, console, friendly_errors

SinceOpt = typer.Option(None, "--since", help="ISO date or a duration back from now: 30d, 12w, 6h.")


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.0%}"


def _num(v: float | None, fmt: str = "{:.1f}") -> str:
    return "–" if v is None else fmt.format(v)


def _open(tenant: str):
    from deskmate.accounts.service import require_tenant
    from deskmate.cli import open_store
    from deskmate.config import get_settings
    from deskmate.db import session_scope

    settings = get_settings()
    _, factory = open_store(settings)
    with session_scope(factory) as session:
        tenant_id = require_tenant(session, tenant).id
    return settings, factory, tenant_id


@cli.command("score")
@friendly_errors
def score(
    all_: bool = typer.Option(False, "--all", help="Rescore every closed conversation, not only unscored ones."),
    since: str | None = SinceOpt,
    retrain: bool = typer.Option(False, "--retrain", help="Refit the resolution model on the labelled history first."),
    tenant: str = TenantOpt,
):
    """Score history (closed conversations) in bulk; re-running resumes where it stopped."""
    from deskmate.outcomes.history import score_history
    from deskmate.outcomes.service import parse_since

    settings, factory, tenant_id = _open(tenant)
    run = score_history(factory, settings=settings, tenant_id=tenant_id, since=parse_since(since, field="since"), rescore=all_,
                        retrain=retrain, progress=True)
    console.print(f"scored {run.scored} conversation(s), {run.skipped} already scored; resolution by "
                  f"{run.resolution_source} ({run.model_version})")


def _headline_table(title: str, rows: list[tuple[str, object]]) -> Table:
    table = Table(title=title, caption="quality: scorecard median; res. quality: mean 0-100; handle time is shown, "
                  "never scored")
    table.add_column("", no_wrap=True)
    for column in ("convs", "resolved", "reopened", "quality", "res. quality", "sentiment Δ", "policy", "handle min"):
        table.add_column(column, justify="right")
    for label, h in rows:
        table.add_row(label, str(h.conversations), _pct(h.resolution_rate), _pct(h.reopen_rate), _num(h.quality.median),
                      _num(h.resolution_quality.mean), _num(h.sentiment_shift, "{:+.2f}"), _pct(h.policy_adherence),
                      _num(h.handle_minutes_median))
    return table


@cli.command("report")
@friendly_errors
def report(
    agent: str | None = typer.Option(None, "--agent", "-a", help="Agent name, external id or id; omit for the team."),
    since: str | None = SinceOpt,
    until: str | None = typer.Option(None, "--until", help="ISO date or duration back from now."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    tenant: str = TenantOpt,
):
    """An agent's scorecard (with coaching), or the team's without --agent."""
    from deskmate.db import session_scope
    from deskmate.outcomes import coaching, reports
    from deskmate.outcomes.service import parse_since

    _, factory, tenant_id = _open(tenant)
    window = dict(since=parse_since(since, field="since"), until=parse_since(until, field="until"))
    with session_scope(factory) as session:
        if agent is None:
            card = reports.team_scorecard(session, tenant_id=tenant_id, **window)
            tips = None
        else:
            user = reports.resolve_agent(session, tenant_id=tenant_id, name_or_id=agent)
            card = reports.agent_scorecard(session, tenant_id=tenant_id, agent_id=user.id, **window)
            tips = coaching.coaching_for(session, tenant_id=tenant_id, agent_id=user.id, since=window["since"])
    if as_json:
        print(json.dumps({"scorecard": card.model_dump(mode="json"),
                          "coaching": tips.model_dump(mode="json") if tips else None}, indent=2))
        return
    if card.conversations == 0:
        console.print("no scored conversations in this period (run `deskmate outcomes score`)")
        return
    if tips is None:
        rows = [("team", card)] + [(r.agent.name, r) for r in card.agents]
        console.print(_headline_table("team scorecard", rows))
    else:
        console.print(_headline_table(f"{card.agent.name}", [(card.agent.name, card), ("team", card.team)]))
    crit = Table("criterion", "pass rate", "passed", "failed", "n/a", title="quality criteria")
    for c in card.criteria:
        crit.add_row(c.label, _pct(c.pass_rate), str(c.passed), str(c.failed), str(c.not_applicable))
    console.print(crit)
    trend = Table("week", "conversations", "resolved", "quality", "policy", "sentiment shift", title="weekly trend")
    for w in card.trend[-12:]:
        trend.add_row(w.week, str(w.conversations), _pct(w.resolution_rate), _num(w.quality_mean), _pct(w.policy_adherence),
                      _num(w.sentiment_shift, "{:+.2f}"))
    console.print(trend)
    if tips is not None:
        for label, group in (("strongest", card.strongest), ("weakest", card.weakest)):
            for c in group:
                ids = ", ".join(f"#{e.conversation_id}" for e in c.examples)
                console.print(f"[bold]{label}[/bold]: {c.label} ({_pct(c.pass_rate)}), e.g. {ids}")
        for item in tips.items:
            console.print(f"[bold]work on[/bold] {item.label}: {_pct(item.agent_pass_rate)} vs team "
                          f"{_pct(item.team_pass_rate)}; yours #{item.agent_example.conversation_id} "
                          f"({item.agent_example.note})")
            if item.peer_example:
                p = item.peer_example
                console.print(f"    see #{p.conversation_id} by {p.agent_name} on {p.reason} "
                              f"(quality {_num(p.quality_score)}): {p.note}")


@cli.command("show")
@friendly_errors
def show(conversation_id: int = typer.Argument(..., help="Conversation id."), tenant: str = TenantOpt):
    """One conversation's scorecard: outcome, confidence, criteria with evidence, summary."""
    from deskmate.db import session_scope
    from deskmate.outcomes.service import get_conversation_score

    settings, factory, tenant_id = _open(tenant)
    with session_scope(factory) as session:
        row = get_conversation_score(session, settings=settings, tenant_id=tenant_id, conversation_id=conversation_id)
        console.print(f"[bold]#{conversation_id}[/bold] {row.predicted_outcome} ({row.outcome_probability:.0%}, "
                      f"{row.resolution_source}); resolution quality {row.resolution_quality:.0f}/100; "
                      f"quality score {_num(row.quality_score)}" + ("; [red]reopened[/red]" if row.reopened else ""))
        table = Table("criterion", "result", "note", "evidence")
        for c in row.criteria:
            ev = "; ".join(f"#{e['seq']}: {e['text'][:80]}" for e in c["evidence"])
            table.add_row(c["label"], c["result"], c["note"], ev)
        console.print(table)
        console.print(row.summary_text)


@cli.command("eval")
@friendly_errors
def evaluate(
    tenant: str | None = typer.Option(None, "--tenant", "-t", help="Workspace; default: the one the demo was built in."),
    holdout: float = typer.Option(0.3, min=0.05, max=0.9, help="Share of the latest conversations held out."),
):
    """Resolution accuracy / AUC (time-ordered hold-out) and policy-adherence precision / recall against truth.json."""
    from deskmate.config import get_settings
    from deskmate.outcomes.evaluation import evaluate_workspace, load_truth

    truth = load_truth(get_settings())
    tenant = tenant or truth.get("tenant") or "default"
    settings, factory, tenant_id = _open(tenant)
    result = evaluate_workspace(factory, settings=settings, tenant_id=tenant_id, holdout=holdout,
                                truth=truth["conversations"])
    table = Table("measure", "value", title=f"outcomes on {tenant} (held-out latest {holdout:.0%})")
    for key, value in result.items():
        table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    console.print(table)
