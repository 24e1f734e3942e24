"""Where ranker versions live: <models_dir>/<tenant>/learning/<version>/ranker.json and current.json.

JSON only (no pickles), written to a temporary file and renamed, so a process reading the
current version never sees half of one. The database table `learning_model_versions` keeps
each version's replay scores and fate; this directory keeps what the live ranker loads.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from deskmate.errors import NotFound
from deskmate.learning.stats import SuggestionStats

FORMAT = 1


@dataclass
class Snapshot:
    version: str
    params: dict
    stats: SuggestionStats
    watermark: int
    info: dict


def learning_dir(settings, tenant_slug: str) -> Path:
    return Path(settings.models_dir) / tenant_slug / "learning"


def _write(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(payload))
    os.replace(tmp, path)


def save_snapshot(settings, tenant_slug: str, snapshot: Snapshot) -> Path:
    path = learning_dir(settings, tenant_slug) / snapshot.version / "ranker.json"
    _write(path, {"format": FORMAT, "version": snapshot.version, "params": snapshot.params,
                  "stats": snapshot.stats.to_json(), "watermark": snapshot.watermark, "info": snapshot.info})
    return path


def load_snapshot(settings, tenant_slug: str, version: str) -> Snapshot | None:
    path = learning_dir(settings, tenant_slug) / version / "ranker.json"
    try:
        raw = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return Snapshot(raw["version"], raw.get("params") or {}, SuggestionStats.from_json(raw.get("stats") or {}),
                    int(raw.get("watermark", 0)), raw.get("info") or {})


def snapshot_exists(settings, tenant_slug: str, version: str) -> bool:
    return (learning_dir(settings, tenant_slug) / version / "ranker.json").exists()


def set_current(settings, tenant_slug: str, version: str) -> None:
    if not snapshot_exists(settings, tenant_slug, version):
        raise NotFound(f"no ranker version {version!r} for workspace {tenant_slug!r}")
    _write(learning_dir(settings, tenant_slug) / "current.json", {"version": version, "set_at": time.time()})


def current_version(settings, tenant_slug: str) -> str | None:
    try:
        return json.loads((learning_dir(settings, tenant_slug) / "current.json").read_text())["version"]
    except (FileNotFoundError, KeyError, ValueError):
        return None


def new_version_name() -> str:
    return time.strftime("r%Y%m%dT%H%M%S") + f"-{time.time_ns() % 1_000_000:06d}"


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
