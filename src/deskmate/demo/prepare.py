"""Workspace preparation: every domain's `pipeline.prepare_workspace` in PREPARE_ORDER.

Domains plug in by shipping `deskmate/<domain>/pipeline.py` with `PREPARE_ORDER` (an
int: nlp=10 trains the intent model, assist=20 builds indexes, outcomes=30 scores
history, insights=40 finds topics, learning=50) and
`prepare_workspace(settings, sessionmaker, tenant_id, progress)`, which must be
idempotent. `progress` is a running Rich Progress: add tasks to it, never start
another live display.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import Progress

from deskmate.config import Settings

DEFAULT_ORDER = 100


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


def pipeline_modules() -> list:
    """Every domain's pipeline module, in PREPARE_ORDER (ties by domain name)."""
    from deskmate.app import domain_modules

    modules = [m for m in domain_modules("pipeline") if hasattr(m, "prepare_workspace")]
    return sorted(modules, key=lambda m: (getattr(m, "PREPARE_ORDER", DEFAULT_ORDER), m.__name__))


def prepare_workspace_all(settings: Settings, sessionmaker, tenant_id: int, progress: Progress | None = None,
                          *, console: Console | None = None, modules: list | None = None) -> PrepareReport:
    """Run each domain's preparation; one failing domain is reported and does not stop the others.

    `modules` defaults to every domain's pipeline module (`pipeline_modules()`).
    """
    report = PrepareReport()
    modules = pipeline_modules() if modules is None else sorted(
        modules, key=lambda m: (getattr(m, "PREPARE_ORDER", DEFAULT_ORDER), m.__name__))
    own = progress is None
    if own:
        progress = Progress(console=console, transient=False, disable=console is None)
        progress.start()
    try:
        for module in modules:
            domain = module.__name__.split(".")[1] if module.__name__.count(".") >= 2 else module.__name__
            started = time.perf_counter()
            task = progress.add_task(f"prepare {domain}", total=None)
            if console is not None and not console.is_terminal:  # no live bars in a log: say what is running
                console.print(f"prepare {domain}: started", highlight=False)
            try:
                detail = module.prepare_workspace(settings, sessionmaker, tenant_id, progress)
                report.steps.append(StepResult(domain, time.perf_counter() - started, detail=detail))
            except Exception as exc:  # noqa: BLE001 - a broken domain must not take the demo down with it
                message = f"{type(exc).__name__}: {exc}".splitlines()[0]
                report.steps.append(StepResult(domain, time.perf_counter() - started, error=message))
                if console is not None:
                    console.print(f"[red]prepare {domain} failed:[/red] {message}", highlight=False)
                    console.print(traceback.format_exc(limit=-3), highlight=False, style="dim")
            progress.update(task, total=1, completed=1)
    finally:
        if own:
            progress.stop()
    return report
