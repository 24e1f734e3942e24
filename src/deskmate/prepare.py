"""Workspace preparation (`deskmate prepare`): train, index, score and analyse a workspace's history.

The steps and their order are registered in one place, `deskmate.plugins.default_prepare_steps`
(nlp trains the intent model, assist builds indexes, outcomes scores history, insights finds
topics, learning joins feedback); each domain's `pipeline.prepare_workspace(settings,
sessionmaker, tenant_id, progress)` does its part and must be idempotent, so an interrupted run
resumes by running again. `progress` is a running Rich Progress: steps add tasks to it, never
start another live display. One failing step is reported and does not stop the others.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import Callable

from rich.console import Console
from rich.progress import Progress

from deskmate.config import Settings


@dataclass(frozen=True)
class PrepareStep:
    domain: str
    run: Callable  # (settings, sessionmaker, tenant_id, progress) -> detail


@dataclass
class StepResult:
    domain: str
    seconds: float
    error: str | None = None
    detail: object = None


@dataclass
class PrepareReport:
    steps: list[StepResult] = field(default_factory=list)

    @property
    def failed(self) -> list[StepResult]:
        return [s for s in self.steps if s.error]


def prepare_workspace_all(settings: Settings, sessionmaker, tenant_id: int, progress: Progress | None = None,
                          *, console: Console | None = None, steps: list[PrepareStep] | None = None) -> PrepareReport:
    """Run each step in order (default: `deskmate.plugins.default_prepare_steps()`), with progress bars."""
    if steps is None:
        from deskmate.plugins import default_prepare_steps

        steps = default_prepare_steps()
    report = PrepareReport()
    own = progress is None
    if own:
        progress = Progress(console=console, transient=False, disable=console is None)
        progress.start()
    try:
        for step in steps:
            started = time.perf_counter()
            task = progress.add_task(f"prepare {step.domain}", total=None)
            if console is not None and not console.is_terminal:  # no live bars in a log: say what is running
                console.print(f"prepare {step.domain}: started", highlight=False)
            try:
                detail = step.run(settings, sessionmaker, tenant_id, progress)
                report.steps.append(StepResult(step.domain, time.perf_counter() - started, detail=detail))
            except Exception as exc:  # noqa: BLE001 - a broken step must not take the others down with it
                message = f"{type(exc).__name__}: {exc}".splitlines()[0]
                report.steps.append(StepResult(step.domain, time.perf_counter() - started, error=message))
                if console is not None:
                    console.print(f"[red]prepare {step.domain} failed:[/red] {message}", highlight=False)
                    console.print(traceback.format_exc(limit=-3), highlight=False, style="dim")
            progress.update(task, total=1, completed=1)
    finally:
        if own:
            progress.stop()
    return report


def print_report(console: Console, report: PrepareReport) -> None:
    for step in report.steps:
        state = f"[red]failed: {step.error}[/red]" if step.error else "[green]ok[/green]"
        console.print(f"prepare {step.domain}: {state} ({step.seconds:.1f}s)")
    if not report.failed:
        console.print("workspace prepared")
