"""The trained pieces of live assist for one workspace, saved as a version, loaded once per process.

Layout: <models_dir>/<tenant slug>/assist/<version>/ holding numpy arrays and JSON (no pickles,
so a model directory is safe to copy between machines), and assist/current.json naming the
version in use. A process re-reads current.json at most every `RELOAD_SECONDS`, so a new version
(from `deskmate prepare`, or promoted by the learning loop) is picked up without a restart,
and requests never load anything.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from deskmate.assist.actions import ActionModel
from deskmate.assist.escalation import EscalationModel
from deskmate.assist.next_action import NextActionClassifier
from deskmate.assist.replies import ReplyModel
from deskmate.assist.vector_index import IVFIndex

RELOAD_SECONDS = 10.0
FORMAT = 1


@dataclass
class AssistModels:
    version: str
    replies: ReplyModel = field(default_factory=ReplyModel)
    actions: ActionModel = field(default_factory=ActionModel)
    escalation: EscalationModel = field(default_factory=EscalationModel)
    next_actions: NextActionClassifier = field(default_factory=NextActionClassifier)
    article_prior: dict = field(default_factory=dict)  # reason -> {article_id: [resolved, total]}
    known_names: list[str] = field(default_factory=list)  # the tenant's customers, for the guardrails
    products: list[str] = field(default_factory=list)  # catalogue for entity extraction
    passages: IVFIndex | None = None
    passages_watermark: int = 0
    info: dict = field(default_factory=dict)  # what it was trained on, when

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.replies.save(directory)
        self.actions.save(directory / "actions.json")
        self.escalation.save(directory / "escalation.json")
        self.next_actions.save(directory)
        if self.passages is not None:
            self.passages.save(directory / "passages.npz")
        (directory / "assist.json").write_text(json.dumps({
            "format": FORMAT, "version": self.version, "article_prior": self.article_prior,
            "known_names": self.known_names, "products": self.products,
            "passages_watermark": self.passages_watermark, "info": self.info,
        }))

    @classmethod
    def load(cls, directory: Path) -> "AssistModels":
        meta = json.loads((directory / "assist.json").read_text())
        passages = IVFIndex.load(directory / "passages.npz") if (directory / "passages.npz").exists() else None
        return cls(version=meta["version"], replies=ReplyModel.load(directory),
                   actions=ActionModel.load(directory / "actions.json"),
                   escalation=EscalationModel.load(directory / "escalation.json"),
                   next_actions=NextActionClassifier.load(directory),
                   article_prior=meta["article_prior"], known_names=meta["known_names"], products=meta["products"],
                   passages=passages, passages_watermark=meta["passages_watermark"], info=meta["info"])


def assist_dir(settings, tenant_slug: str) -> Path:
    return Path(settings.models_dir) / tenant_slug / "assist"


def save_version(settings, tenant_slug: str, models: AssistModels, *, make_current: bool = True) -> Path:
    root = assist_dir(settings, tenant_slug)
    target = root / models.version
    tmp = root / f".{models.version}.{os.getpid()}.tmp"
    models.save(tmp)
    if target.exists():
        import shutil

        shutil.rmtree(target)
    os.replace(tmp, target)
    if make_current:
        set_current(settings, tenant_slug, models.version)
    return target


def set_current(settings, tenant_slug: str, version: str) -> None:
    """Point the workspace at a saved version (promotion and rollback both go through here)."""
    root = assist_dir(settings, tenant_slug)
    if not (root / version / "assist.json").exists():
        from deskmate.errors import NotFound

        raise NotFound(f"no assist model version {version!r} for workspace {tenant_slug!r}")
    tmp = root / f".current.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"version": version, "set_at": time.time()}))
    os.replace(tmp, root / "current.json")


def current_version(settings, tenant_slug: str) -> str | None:
    try:
        return json.loads((assist_dir(settings, tenant_slug) / "current.json").read_text())["version"]
    except (FileNotFoundError, KeyError, ValueError):
        return None


def list_versions(settings, tenant_slug: str) -> list[str]:
    root = assist_dir(settings, tenant_slug)
    return sorted(p.name for p in root.iterdir() if (p / "assist.json").exists()) if root.exists() else []


class _Registry:
    """Process-wide cache: (models_dir, tenant) -> loaded models, re-checked every RELOAD_SECONDS."""

    def __init__(self):
        self._lock = threading.Lock()
        self._loaded: dict[tuple[str, str], tuple[str | None, AssistModels | None, float]] = {}

    def get(self, settings, tenant_slug: str) -> AssistModels | None:
        key = (str(settings.models_dir), tenant_slug)  # no resolve(): it stats every path component, per message
        now = time.monotonic()
        entry = self._loaded.get(key)
        if entry is not None and now - entry[2] < RELOAD_SECONDS:
            return entry[1]
        with self._lock:
            entry = self._loaded.get(key)
            if entry is not None and now - entry[2] < RELOAD_SECONDS:
                return entry[1]
            version = current_version(settings, tenant_slug)
            if entry is not None and entry[0] == version:
                self._loaded[key] = (version, entry[1], now)
                return entry[1]
            models = AssistModels.load(assist_dir(settings, tenant_slug) / version) if version else None
            self._loaded[key] = (version, models, now)
            return models

    def forget(self, settings=None, tenant_slug: str | None = None) -> None:
        with self._lock:
            if settings is None:
                self._loaded.clear()
            else:
                self._loaded.pop((str(settings.models_dir), tenant_slug), None)


registry = _Registry()


def load_models(settings, tenant_slug: str) -> AssistModels | None:
    """The workspace's current assist models (None before `prepare`), cached per process."""
    return registry.get(settings, tenant_slug)
