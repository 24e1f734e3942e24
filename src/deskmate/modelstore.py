"""The one versioned store for every trained model a workspace serves: intent, assist bundle, ranker, resolution.

Why one store: each of these models used to keep its own pointer file, its own cache and its own
reload rule, so "which version is live, and can I go back" had four answers. Here every kind saves,
loads, names its current version, promotes and rolls back the same way, and a process loads a
version once (cache keyed by (root, kind, tenant, version)); a request at most reads a pointer that
is itself cached for `RECHECK_SECONDS`, so a version promoted by another process (`deskmate prepare`,
a retrain) is picked up without a restart, and one promoted in this process at once.

A model kind is a `Kind`: its name and how its object writes itself into, and reads itself from, a
directory. The kinds are declared beside their models (`deskmate.nlp.intent.INTENT`,
`deskmate.assist.bundle.ASSIST`, `deskmate.learning.store.RANKER`,
`deskmate.outcomes.resolution.RESOLUTION`); this module imports none of them.

Storage is the small `DirectoryBackend`, the only piece that knows about files, so another backend
(the database) can replace it. Layout under `settings.models_dir`:

    <tenant>/<kind>/<version>/          the model's own files, plus modelstore.json (version, saved_at, info)
    <tenant>/<kind>/pointer.json        {"version": current, "previous": [versions current before, newest first]}

Writes go to a temporary name and are renamed, so a reader never sees half a version or pointer.

Migration: the pointers written before this store (assist/current.json, intent/CURRENT,
learning/current.json, outcomes/resolution.joblib) are not read; a workspace with only those has
"no model yet" until `deskmate prepare` (or a retrain) saves its models again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deskmate.errors import InvalidInput, NotFound

RECHECK_SECONDS = 10.0  # how stale a cached current pointer may be (other processes' promotions)
KEEP_LOADED = 2  # loaded versions kept per (root, kind, tenant): the current one and the one before
MAX_PREVIOUS = 20  # rollback history kept in a pointer
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class NoModel(NotFound):
    """No model of this kind is saved (or current) for the workspace yet."""


class DamagedStore(InvalidInput):
    """A pointer or version on disk cannot be read; the message names the file and the fix."""


@dataclass(frozen=True)
class Kind:
    """One kind of model: `write(obj, directory)` fills a new directory, `read(directory)` returns the object."""

    name: str
    write: Callable[[Any, Path], None]
    read: Callable[[Path], Any]


def new_version() -> str:
    """A version name that sorts by time: 20250101T120000-123456."""
    return time.strftime("%Y%m%dT%H%M%S") + f"-{time.time_ns() % 1_000_000:06d}"


def _checked(what: str, value: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise InvalidInput(f"{what} {value!r} is not a valid name (letters, digits, '.', '_', '-')")
    return value


class DirectoryBackend:
    """Versions as directories and the pointer as a JSON file, all written atomically."""

    POINTER = "pointer.json"
    META = "modelstore.json"

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def kind_dir(self, kind: str, tenant: str) -> Path:
        return self.root / _checked("workspace", tenant) / _checked("model kind", kind)

    def version_dir(self, kind: str, tenant: str, version: str) -> Path:
        return self.kind_dir(kind, tenant) / _checked("version", version)

    def has_version(self, kind: str, tenant: str, version: str) -> bool:
        return (self.version_dir(kind, tenant, version) / self.META).is_file()

    def write_version(self, kind: str, tenant: str, version: str, write: Callable[[Path], None], meta: dict) -> None:
        target = self.version_dir(kind, tenant, version)
        target.parent.mkdir(parents=True, exist_ok=True)
        stamp = f"{os.getpid()}.{threading.get_ident()}"
        tmp = target.with_name(f".{version}.{stamp}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            write(tmp)
            tmp.mkdir(parents=True, exist_ok=True)
            (tmp / self.META).write_text(json.dumps(meta, indent=2))
            if target.exists():
                old = target.with_name(f".{version}.{stamp}.old")
                os.replace(target, old)
                os.replace(tmp, target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def read_version(self, kind: str, tenant: str, version: str, read: Callable[[Path], Any]) -> Any:
        if not self.has_version(kind, tenant, version):
            raise NoModel(f"no {kind} model version {version!r} for workspace {tenant!r}")
        return read(self.version_dir(kind, tenant, version))

    def read_meta(self, kind: str, tenant: str, version: str) -> dict:
        path = self.version_dir(kind, tenant, version) / self.META
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            raise NoModel(f"no {kind} model version {version!r} for workspace {tenant!r}") from None
        except ValueError:
            raise DamagedStore(f"{path} is damaged (not JSON); delete that version directory") from None

    def versions(self, kind: str, tenant: str) -> list[str]:
        base = self.kind_dir(kind, tenant)
        if not base.is_dir():
            return []
        return [p.name for p in base.iterdir() if not p.name.startswith(".") and (p / self.META).is_file()]

    def read_pointer(self, kind: str, tenant: str) -> dict | None:
        path = self.kind_dir(kind, tenant) / self.POINTER
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except ValueError:
            raise DamagedStore(f"{path} is damaged (not JSON): delete it and run 'deskmate prepare'") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("version"), str):
            raise DamagedStore(f"{path} does not name a version: delete it and run 'deskmate prepare'")
        return raw

    def write_pointer(self, kind: str, tenant: str, pointer: dict) -> None:
        path = self.kind_dir(kind, tenant) / self.POINTER
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{self.POINTER}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(pointer))
        os.replace(tmp, path)


# Process-wide: every ModelStore on the same root shares what this process has loaded.
_lock = threading.RLock()
_loaded: dict[tuple[str, str, str, str], Any] = {}
_pointers: dict[tuple[str, str, str], tuple[str | None, float]] = {}


class ModelStore:
    """Save, load, promote and roll back versions of a workspace's models (see the module docstring)."""

    def __init__(self, root: Path | str, *, recheck_seconds: float = RECHECK_SECONDS, backend=None):
        self.root = Path(root)
        self.recheck_seconds = recheck_seconds
        self.backend = backend or DirectoryBackend(self.root)
        self._root_key = str(self.root)  # no resolve(): it stats every path component, per message

    @classmethod
    def of(cls, settings) -> ModelStore:
        """The store of a Deskmate installation (`settings.models_dir`)."""
        return cls(settings.models_dir)

    # ---- writing -----------------------------------------------------------------------

    def save(self, kind: Kind, tenant: str, obj: Any, info: dict | None = None, *, version: str | None = None,
             make_current: bool = False) -> str:
        """Save `obj` as a version (a new name unless given; the same name replaces that version)."""
        version = _checked("version", version or new_version())
        meta = {"kind": kind.name, "version": version, "saved_at": datetime.now(UTC).isoformat(),
                "info": dict(info or {})}
        self.backend.write_version(kind.name, tenant, version, lambda directory: kind.write(obj, directory), meta)
        with _lock:
            _loaded.pop((self._root_key, kind.name, tenant, version), None)
        if make_current:
            self.promote(kind, tenant, version)
        return version

    def promote(self, kind: Kind, tenant: str, version: str) -> None:
        """Make a saved version current; the one it replaces goes first in the rollback history."""
        if not self.backend.has_version(kind.name, tenant, version):
            raise NoModel(f"no {kind.name} model version {version!r} for workspace {tenant!r}")
        pointer = self.backend.read_pointer(kind.name, tenant)
        previous = []
        if pointer is not None:
            previous = [v for v in [pointer["version"], *pointer.get("previous", [])] if v != version]
        self._point(kind, tenant, version, previous)

    def rollback(self, kind: Kind, tenant: str, version: str | None = None) -> str:
        """Make `version` current again (default: the version that was current before this one)."""
        pointer = self.backend.read_pointer(kind.name, tenant)
        if pointer is None:
            raise NoModel(f"workspace {tenant!r} has no {kind.name} model yet: nothing to roll back")
        history = [v for v in pointer.get("previous", []) if v != pointer["version"]]
        if version is None:
            if not history:
                raise InvalidInput(f"no earlier {kind.name} version to roll back to for workspace {tenant!r}")
            version, previous = history[0], history[1:]
        else:
            if version == pointer["version"]:
                raise InvalidInput(f"{kind.name} version {version!r} is already current")
            previous = [pointer["version"], *(v for v in history if v != version)]
        if not self.backend.has_version(kind.name, tenant, version):
            raise NoModel(f"no {kind.name} model version {version!r} for workspace {tenant!r}")
        self._point(kind, tenant, version, previous)
        return version

    def _point(self, kind: Kind, tenant: str, version: str, previous: list[str]) -> None:
        self.backend.write_pointer(kind.name, tenant, {"version": version, "previous": previous[:MAX_PREVIOUS],
                                                       "set_at": time.time()})
        with _lock:
            _pointers[(self._root_key, kind.name, tenant)] = (version, time.monotonic())

    # ---- reading -----------------------------------------------------------------------

    def current(self, kind: Kind, tenant: str, *, required: bool = True) -> str | None:
        """The current version, read from the pointer now (None, or NoModel when required, before any)."""
        pointer = self.backend.read_pointer(kind.name, tenant)
        if pointer is None:
            if required:
                raise NoModel(f"workspace {tenant!r} has no {kind.name} model yet: run 'deskmate prepare'")
            return None
        version = pointer["version"]
        if not self.backend.has_version(kind.name, tenant, version):
            raise DamagedStore(f"the current {kind.name} model of workspace {tenant!r} names version {version!r}, "
                               f"which is not saved: run 'deskmate prepare'")
        return version

    def load(self, kind: Kind, tenant: str, version: str | None = None, *, required: bool = True) -> Any:
        """A saved version (default: the current one), loaded once per process.

        Before any model is saved: NoModel, or None when not `required`."""
        if version is None:
            version = self._current_cached(kind, tenant)
            if version is None:
                if required:
                    raise NoModel(f"workspace {tenant!r} has no {kind.name} model yet: run 'deskmate prepare'")
                return None
        key = (self._root_key, kind.name, tenant, version)
        obj = _loaded.get(key)
        if obj is not None:
            return obj
        with _lock:
            obj = _loaded.get(key)
            if obj is None:
                obj = self.backend.read_version(kind.name, tenant, version, kind.read)
                self._remember(key, obj)
            return obj

    def _current_cached(self, kind: Kind, tenant: str) -> str | None:
        pkey = (self._root_key, kind.name, tenant)
        now = time.monotonic()
        hit = _pointers.get(pkey)
        if hit is not None and now - hit[1] < self.recheck_seconds:
            return hit[0]
        version = self.current(kind, tenant, required=False)
        with _lock:
            _pointers[pkey] = (version, now)
        return version

    @staticmethod
    def _remember(key: tuple[str, str, str, str], obj: Any) -> None:
        siblings = [k for k in _loaded if k[:3] == key[:3]]  # dicts keep insertion order: oldest first
        for old in siblings[: max(0, len(siblings) - KEEP_LOADED + 1)]:
            del _loaded[old]
        _loaded[key] = obj

    def exists(self, kind: Kind, tenant: str, version: str) -> bool:
        return self.backend.has_version(kind.name, tenant, version)

    def versions(self, kind: Kind, tenant: str) -> list[str]:
        """Saved versions, oldest first."""
        names = self.backend.versions(kind.name, tenant)
        return sorted(names, key=lambda v: (self.backend.read_meta(kind.name, tenant, v).get("saved_at", ""), v))

    def info(self, kind: Kind, tenant: str, version: str) -> dict:
        """What was saved with a version: {"kind", "version", "saved_at", "info"}."""
        return self.backend.read_meta(kind.name, tenant, version)

    def path(self, kind: Kind, tenant: str, version: str | None = None) -> Path:
        """Where a version's files are, or (no version) the kind's versions: for tools that read them directly."""
        if version is None:
            return self.backend.kind_dir(kind.name, tenant)
        return self.backend.version_dir(kind.name, tenant, version)

    def forget(self) -> None:
        """Drop what this process loaded from this root (the next load reads the disk again)."""
        with _lock:
            for key in [k for k in _loaded if k[0] == self._root_key]:
                del _loaded[key]
            for key in [k for k in _pointers if k[0] == self._root_key]:
                del _pointers[key]
