"""`deskmate replay`: test live assist on the workspace's own history before going live."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

TENANT = typer.Option("default", "--tenant", "-t", envvar="DESKMATE_TENANT", help="Workspace (tenant) slug.")

GOALS = {"next_action_hit@1": 0.85, "reply_recall@3": 0.6, "intent_accuracy_turn2": 0.9}


def replay(
    holdout: float = typer.Option(0.2, min=0.01, max=0.99, help="Share of history (the most recent) replayed as if live."),
    tenant: str = TENANT,
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Replay at most this many held-out conversations."),
    json_path: Optional[Path] = typer.Option(None, "--json", help="Also write the figures to this JSON file."),
    seed: int = typer.Option(0, help="Seed for sampling the 99 distractor replies."),
):
    """Train on earlier history, replay held-out conversations message by message, and score the suggestions

    beside simple baselines asked at the same moments (a tie in the reply ranking counts as a miss)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    from deskmate.assist.replay import run_replay
    from deskmate.cli import console, open_store
    from deskmate.config import get_settings

    settings = get_settings()
    _, factory = open_store(settings)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as progress:
        report = run_replay(settings, factory, tenant_slug=tenant, holdout=holdout, limit=limit, seed=seed,
                            progress=progress)
    table = Table(title=f"replay of {report.replayed} held-out conversations (trained on {report.trained_on}, "
                        f"holdout {holdout:g})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("n", justify="right")
    table.add_column("baselines, same moments", overflow="fold")
    table.add_column("goal", justify="right")
    for name, value in report.figures.items():
        goal = GOALS.get(name)
        shown = "—" if value is None else f"{value:.3f}"
        base = {k: v for k, v in report.baselines.get(name, {}).items() if v is not None}
        if value is not None and base:  # green only when above every baseline (and the goal, if any)
            beaten = value > max(base.values()) and (goal is None or value >= goal)
            shown = f"[{'green' if beaten else 'red'}]{shown}[/]"
        table.add_row(name, shown, str(report.counts.get(name, "")),
                      ", ".join(f"{k} {v:.3f}" for k, v in base.items()), "" if goal is None else f"≥ {goal:g}")
    for kind, row in report.alerts.items():
        precision = "not judged" if row["precision"] is None else f"{row['precision']:.3f}"
        table.add_row(f"  alert {kind} precision", precision, f"{row['judged']} of {row['fired']} fired", "", "")
    if report.latency_ms:
        table.add_row("latency per message p50 / p99 (ms)", f"{report.latency_ms['p50']:.1f} / {report.latency_ms['p99']:.1f}",
                      str(report.latency_ms["updates"]), "", "")
    console.print(table)
    for note in report.notes:
        console.print(f"note: {note}", highlight=False)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report.as_dict(), indent=2))
        console.print(f"figures written to {json_path}", highlight=False)


commands = [replay]
