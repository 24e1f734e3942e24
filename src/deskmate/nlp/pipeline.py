"""Workspace preparation (`deskmate prepare`, first step): train the intent model the assist and insights steps read."""

from __future__ import annotations

from deskmate.nlp.intent_store import TrainResult, train_workspace_intent_model


def prepare_workspace(settings, sessionmaker, tenant_id: int, progress=None, *, force: bool = False) -> TrainResult:
    """Train (or keep, when the labelled conversations did not change) the workspace's intent model.

    `progress` is a running Rich Progress (or None): one task follows the training stages.
    """
    task = None
    if progress is not None and hasattr(progress, "add_task"):
        task = progress.add_task("intent model", total=1.0)

    def report(stage: str, done: float) -> None:
        if task is not None:
            progress.update(task, description=f"intent model: {stage}", completed=min(done, 1.0))

    result = train_workspace_intent_model(settings, sessionmaker, tenant_id, force=force, progress=report)
    if task is not None:
        progress.update(task, description=f"intent model: {'trained' if result.trained else result.reason}",
                        completed=1.0)
    return result
