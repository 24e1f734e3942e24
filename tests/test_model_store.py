"""The one model store: versions saved and loaded once per process, the current pointer, promotion and
rollback, clear errors for a missing or damaged pointer, and no second store anywhere in the code."""

import json
import re
from pathlib import Path

import pytest

from deskmate.errors import InvalidInput
from deskmate.modelstore import DamagedStore, Kind, ModelStore, NoModel

SRC = Path(__file__).resolve().parents[1] / "src" / "deskmate"


class Counted:
    """A JSON model kind that counts how often it is read from disk."""

    def __init__(self):
        self.reads = 0
        self.kind = Kind("toy", write=self.write, read=self.read)

    @staticmethod
    def write(obj, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "toy.json").write_text(json.dumps(obj))

    def read(self, directory: Path):
        self.reads += 1
        return json.loads((directory / "toy.json").read_text())


@pytest.fixture
def toy():
    return Counted()


def test_save_load_current_and_versions(tmp_path, toy):
    store = ModelStore(tmp_path)
    assert store.current(toy.kind, "acme", required=False) is None
    assert store.load(toy.kind, "acme", required=False) is None
    v1 = store.save(toy.kind, "acme", {"w": 1}, {"rows": 10}, version="v1")
    assert v1 == "v1" and store.versions(toy.kind, "acme") == ["v1"]
    assert store.current(toy.kind, "acme", required=False) is None  # saved is not current until promoted
    assert store.info(toy.kind, "acme", "v1")["info"] == {"rows": 10}
    assert store.load(toy.kind, "acme", "v1") == {"w": 1}

    v2 = store.save(toy.kind, "acme", {"w": 2}, make_current=True)
    assert store.current(toy.kind, "acme") == v2 and store.versions(toy.kind, "acme") == ["v1", v2]
    assert (tmp_path / "acme" / "toy" / v2 / "toy.json").exists()
    assert store.load(toy.kind, "acme") == {"w": 2}
    assert store.load(toy.kind, "beta", required=False) is None  # workspaces do not share models


def test_a_version_is_loaded_once_per_process(tmp_path, toy):
    store = ModelStore(tmp_path)
    store.save(toy.kind, "acme", {"w": 1}, version="v1", make_current=True)
    first = store.load(toy.kind, "acme")
    assert store.load(toy.kind, "acme") is first
    assert ModelStore(tmp_path).load(toy.kind, "acme") is first  # another store object on the same root shares it
    assert toy.reads == 1
    store.save(toy.kind, "acme", {"w": 9}, version="v1")  # the same name replaces that version: read again
    assert store.load(toy.kind, "acme") == {"w": 9} and toy.reads == 2
    store.forget()
    store.load(toy.kind, "acme")
    assert toy.reads == 3


def test_promote_and_rollback(tmp_path, toy):
    store = ModelStore(tmp_path)
    for n in (1, 2, 3):
        store.save(toy.kind, "acme", {"w": n}, version=f"v{n}", make_current=True)
    assert store.load(toy.kind, "acme") == {"w": 3}  # a promotion in this process is seen at once
    assert store.rollback(toy.kind, "acme") == "v2" and store.load(toy.kind, "acme") == {"w": 2}
    assert store.rollback(toy.kind, "acme") == "v1"
    with pytest.raises(InvalidInput, match="no earlier toy version"):
        store.rollback(toy.kind, "acme")
    assert store.rollback(toy.kind, "acme", "v3") == "v3"
    assert store.rollback(toy.kind, "acme") == "v1"  # back to the one current before the named rollback
    with pytest.raises(InvalidInput, match="already current"):
        store.rollback(toy.kind, "acme", "v1")
    with pytest.raises(NoModel, match="v9"):
        store.promote(toy.kind, "acme", "v9")
    with pytest.raises(NoModel, match="v9"):
        store.rollback(toy.kind, "acme", "v9")
    assert store.current(toy.kind, "acme") == "v1"


def test_another_process_promotion_is_seen_after_the_recheck(tmp_path, toy):
    store = ModelStore(tmp_path, recheck_seconds=3600)
    store.save(toy.kind, "acme", {"w": 1}, version="v1", make_current=True)
    store.save(toy.kind, "acme", {"w": 2}, version="v2")
    assert store.load(toy.kind, "acme") == {"w": 1}
    # what another process's promotion leaves on disk, written without this process's store
    store.backend.write_pointer("toy", "acme", {"version": "v2", "previous": ["v1"]})
    assert store.load(toy.kind, "acme") == {"w": 1}  # within the recheck interval: the cached pointer
    assert store.current(toy.kind, "acme") == "v2"  # asked directly: read now
    assert ModelStore(tmp_path, recheck_seconds=0).load(toy.kind, "acme") == {"w": 2}


def test_missing_or_damaged_pointer_gives_a_clear_error(tmp_path, toy):
    store = ModelStore(tmp_path)
    with pytest.raises(NoModel, match="workspace 'acme' has no toy model yet"):
        store.load(toy.kind, "acme")
    with pytest.raises(NoModel, match="deskmate prepare"):
        store.current(toy.kind, "acme")
    with pytest.raises(NoModel, match="nothing to roll back"):
        store.rollback(toy.kind, "acme")
    store.save(toy.kind, "acme", {"w": 1}, version="v1", make_current=True)
    pointer = tmp_path / "acme" / "toy" / "pointer.json"
    pointer.write_text("{not json")
    with pytest.raises(DamagedStore, match=re.escape(str(pointer))):
        store.current(toy.kind, "acme")
    pointer.write_text(json.dumps({"previous": []}))
    with pytest.raises(DamagedStore, match="does not name a version"):
        store.current(toy.kind, "acme")
    pointer.write_text(json.dumps({"version": "gone"}))
    with pytest.raises(DamagedStore, match="'gone', which is not saved"):
        ModelStore(tmp_path, recheck_seconds=0).load(toy.kind, "acme")
    with pytest.raises(NoModel):
        store.load(toy.kind, "acme", "gone")


@pytest.mark.parametrize("tenant, version", [("../etc", "v1"), ("acme", "../../x"), ("acme", ".hidden"), ("", "v1")])
def test_names_that_would_leave_the_store_are_refused(tmp_path, toy, tenant, version):
    with pytest.raises(InvalidInput, match="not a valid name"):
        ModelStore(tmp_path).save(toy.kind, tenant, {"w": 1}, version=version)
    assert not any(tmp_path.parent.glob("etc")) and list(tmp_path.iterdir()) in ([], [tmp_path / "acme"])


def test_a_failed_save_leaves_no_version_behind(tmp_path):
    def broken(obj, directory):
        directory.mkdir(parents=True)
        (directory / "half.json").write_text("{")
        raise OSError("disk full")

    kind = Kind("toy", write=broken, read=lambda d: None)
    store = ModelStore(tmp_path)
    with pytest.raises(OSError):
        store.save(kind, "acme", {}, version="v1", make_current=True)
    assert store.versions(kind, "acme") == [] and store.current(kind, "acme", required=False) is None
    assert list((tmp_path / "acme" / "toy").iterdir()) == []


# ---- one store in the code ----------------------------------------------------------------------


def _modules():
    return {p.relative_to(SRC).as_posix(): p.read_text() for p in SRC.rglob("*.py")}


def test_one_model_store_and_one_kind_per_model():
    modules = _modules()
    defining = [name for name, text in modules.items() if re.search(r"^class ModelStore\b", text, re.M)]
    assert defining == ["modelstore.py"]
    kinds = {m.group(1): name for name, text in modules.items()
             for m in re.finditer(r"^[A-Z_]+ = Kind\(\"(\w+)\"", text, re.M)}
    assert kinds == {"intent": "nlp/intent.py", "assist": "assist/bundle.py", "ranker": "learning/store.py",
                     "resolution": "outcomes/resolution.py"}


def test_no_other_module_keeps_its_own_pointer_or_model_cache():
    pointer_names = re.compile(r"""["'](current\.json|CURRENT|pointer\.json)["']""")
    own_cache = re.compile(r"^_?\w*(models?|MODELS?|cache|CACHE|loaded)\w*\s*(:[^=\n]*)?=\s*(\{\}|dict\(\))", re.M)
    for name, text in _modules().items():
        if name == "modelstore.py":
            continue
        assert not pointer_names.search(text), f"{name} names a model pointer file: use deskmate.modelstore"
        assert not own_cache.search(text), f"{name} keeps its own cache of loaded models: use deskmate.modelstore"
        assert not re.search(r"^class \w*Registry\b", text, re.M), f"{name} defines its own registry"
