"""The trained pieces of live assist for one workspace, saved as a version, loaded once per process.

A version is a directory of numpy arrays and JSON (no pickles, so a model directory is safe to
copy between machines), kept by the one model store (`deskmate.modelstore`, kind `ASSIST`): it
names the current version, caches what a process loaded, and picks up a version promoted
elsewhere (`deskmate prepare`) within `modelstore.RECHECK_SECONDS`, so requests never load anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from deskmate.assist.actions import ActionModel
from deskmate.assist.escalation import EscalationModel
from deskmate.assist.next_action import NextActionClassifier
from deskmate.assist.replies import ReplyModel
from deskmate.assist.vector_index import IVFIndex
from deskmate.modelstore import Kind, ModelStore

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


ASSIST = Kind("assist", write=lambda models, directory: models.save(directory), read=AssistModels.load)


def save_version(settings, tenant_slug: str, models: AssistModels, *, make_current: bool = True) -> str:
    """Save the models as version `models.version` (replacing a version of that name); returns the version."""
    return ModelStore.of(settings).save(ASSIST, tenant_slug, models, {"conversations": models.info.get("conversations")},
                                        version=models.version, make_current=make_current)


def set_current(settings, tenant_slug: str, version: str) -> None:
    """Point the workspace at a saved version (promotion and rollback both go through here)."""
    ModelStore.of(settings).promote(ASSIST, tenant_slug, version)


def current_version(settings, tenant_slug: str) -> str | None:
    return ModelStore.of(settings).current(ASSIST, tenant_slug, required=False)


def list_versions(settings, tenant_slug: str) -> list[str]:
    return ModelStore.of(settings).versions(ASSIST, tenant_slug)


def load_models(settings, tenant_slug: str) -> AssistModels | None:
    """The workspace's current assist models (None before `prepare`), loaded once per process."""
    return ModelStore.of(settings).load(ASSIST, tenant_slug, required=False)
