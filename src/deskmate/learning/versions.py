"""Ranker versions: record each with its replay scores, promote only what is not worse, roll back to any.

The snapshot a live process loads is in the model store (`store`); its history (scores, the baseline
it was compared with, the decision and why) is in `learning_model_versions`. Promotion and rollback
both make a saved snapshot the store's current version, so every process picks the change up within
`ranking.RELOAD_SECONDS` (plus the store's pointer recheck); this process's ranker is told at once.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskmate.db import utcnow
from deskmate.errors import InvalidInput, NotFound
from deskmate.learning import store
from deskmate.learning.models import ModelVersion
from deskmate.learning.ranking import registry

GATED = ("next_action_hit@1", "reply_recall@3", "knowledge_hit@3")
TOLERANCE = 0.005  # replay noise on a few hundred conversations; a drop beyond this is a real drop


def decide(candidate: dict, baseline: dict, *, tolerance: float = TOLERANCE) -> tuple[bool, str]:
    """Promote when no gated replay figure is worse than the baseline's by more than `tolerance`."""
    compared, worse = [], []
    for name in GATED:
        c, b = candidate.get(name), baseline.get(name)
        if c is None or b is None:
            continue
        compared.append(f"{name} {c:.3f} vs {b:.3f}")
        if c < b - tolerance:
            worse.append(f"{name} {c:.3f} < {b:.3f}")
    if worse:
        return False, "not promoted: worse on " + "; ".join(worse)
    if not compared:
        return True, "promoted: nothing to compare (no replay figures on either side)"
    return True, "promoted: not worse on " + "; ".join(compared)


def list_versions(session: Session, *, tenant_id: int) -> list[ModelVersion]:
    return list(session.scalars(select(ModelVersion).where(ModelVersion.tenant_id == tenant_id)
                                .order_by(ModelVersion.created_at.desc(), ModelVersion.id.desc())))


def get_version(session: Session, *, tenant_id: int, version: str) -> ModelVersion:
    row = session.scalar(select(ModelVersion).where(ModelVersion.tenant_id == tenant_id, ModelVersion.version == version))
    if row is None:
        raise NotFound(f"no ranker version {version!r}")
    return row


def record(session: Session, *, settings, tenant, snapshot: store.Snapshot, scores: dict, baseline: dict,
           promote_it: bool, decision: str) -> ModelVersion:
    store.save_snapshot(settings, tenant.slug, snapshot)
    row = ModelVersion(tenant_id=tenant.id, version=snapshot.version, status="candidate" if promote_it else "rejected",
                       params=snapshot.params, scores=scores, baseline=baseline, decision=decision,
                       feedback_rows=snapshot.stats.rows, watermark=snapshot.watermark)
    session.add(row)
    session.flush()
    if promote_it:
        promote(session, settings=settings, tenant=tenant, row=row)
    return row


def promote(session: Session, *, settings, tenant, row: ModelVersion) -> ModelVersion:
    if not store.snapshot_exists(settings, tenant.slug, row.version):
        raise NotFound(f"ranker version {row.version!r} has no saved snapshot in {settings.models_dir}")
    for other in session.scalars(select(ModelVersion).where(ModelVersion.tenant_id == tenant.id,
                                                            ModelVersion.status == "current", ModelVersion.id != row.id)):
        other.status = "retired"
    store.set_current(settings, tenant.slug, row.version)
    row.status, row.promoted_at = "current", utcnow()
    session.flush()
    registry.touch(settings, tenant.slug)
    return row


def current(session: Session, *, tenant_id: int) -> ModelVersion | None:
    return session.scalar(select(ModelVersion).where(ModelVersion.tenant_id == tenant_id, ModelVersion.status == "current"))


def rollback(session: Session, *, settings, tenant, version: str | None = None) -> ModelVersion:
    """Make `version` current again (default: the version that was current before this one)."""
    now = current(session, tenant_id=tenant.id)
    if version is None:
        previous = [v for v in list_versions(session, tenant_id=tenant.id)
                    if v.promoted_at is not None and (now is None or v.id != now.id)]
        if not previous:
            raise InvalidInput("no earlier promoted version to roll back to; name one (deskmate learn versions)")
        target = max(previous, key=lambda v: v.promoted_at)
    else:
        target = get_version(session, tenant_id=tenant.id, version=version)
    if now is not None and target.id == now.id:
        raise InvalidInput(f"version {target.version!r} is already current")
    promote(session, settings=settings, tenant=tenant, row=target)
    note = f"rolled back to from {now.version}" if now is not None else "made current by rollback"
    target.decision = (target.decision + "; " if target.decision else "") + note
    session.flush()
    return target
