"""Workspace preparation step: score the workspace's history (after nlp and assist, before insights).

Idempotent: the resolution model is refitted only when the labelled history changed, and
conversations already scored are skipped.
"""

from __future__ import annotations

from deskmate.outcomes.history import score_history


def prepare_workspace(settings, sessionmaker, tenant_id: int, progress=True):
    return score_history(sessionmaker, settings=settings, tenant_id=tenant_id, rescore=False, progress=progress)
