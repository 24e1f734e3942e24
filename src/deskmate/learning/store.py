"""Ranker versions: a snapshot (parameters + stats) per version, kept by the one model store (kind `RANKER`).

JSON only (no pickles); `deskmate.modelstore` writes it atomically and names the current version.
The database table `learning_model_versions` keeps each version's replay scores and fate; the
store keeps what the live ranker loads.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from deskmate.learning.stats import SuggestionStats
from deskmate.modelstore import Kind, ModelStore, new_version

FORMAT = 1


@dataclass
class Snapshot:
    version: str
    params: dict
    stats: SuggestionStats
    watermark: int
    info: dict

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "ranker.json").write_text(json.dumps({
            "format": FORMAT, "version": self.version, "params": self.params, "stats": self.stats.to_json(),
            "watermark": self.watermark, "info": self.info}))

    @classmethod
    def load(cls, directory: Path) -> "Snapshot":
        raw = json.loads((directory / "ranker.json").read_text())
        return cls(raw["version"], raw.get("params") or {}, SuggestionStats.from_json(raw.get("stats") or {}),
                   int(raw.get("watermark", 0)), raw.get("info") or {})


RANKER = Kind("ranker", write=lambda snapshot, directory: snapshot.save(directory), read=Snapshot.load)


def save_snapshot(settings, tenant_slug: str, snapshot: Snapshot) -> str:
    """Save a version (not yet current: `versions.promote` decides)."""
    return ModelStore.of(settings).save(RANKER, tenant_slug, snapshot, {"watermark": snapshot.watermark},
                                        version=snapshot.version)


def load_snapshot(settings, tenant_slug: str, version: str | None) -> Snapshot | None:
    """A saved version, shared by this process (copy its stats before changing them); None if there is none."""
    if not version or not snapshot_exists(settings, tenant_slug, version):
        return None
    return ModelStore.of(settings).load(RANKER, tenant_slug, version)


def snapshot_exists(settings, tenant_slug: str, version: str) -> bool:
    return ModelStore.of(settings).exists(RANKER, tenant_slug, version)


def set_current(settings, tenant_slug: str, version: str) -> None:
    ModelStore.of(settings).promote(RANKER, tenant_slug, version)


def current_version(settings, tenant_slug: str) -> str | None:
    return ModelStore.of(settings).current(RANKER, tenant_slug, required=False)


def new_version_name() -> str:
    return "r" + new_version()


# ---- database access for the live ranker (which is handed settings, not a session) ----------

_factories: dict[str, object] = {}
_factories_lock = threading.Lock()


def sessionmaker_for(settings):
    from deskmate.db import make_engine, make_sessionmaker

    url = settings.database_url
    with _factories_lock:
        factory = _factories.get(url)
        if factory is None:
            factory = _factories[url] = make_sessionmaker(make_engine(url))
    return factory


def tenant_id_of(session, tenant_slug: str) -> int | None:
    from deskmate.accounts.models import Tenant

    return session.scalar(select(Tenant.id).where(Tenant.slug == tenant_slug))
