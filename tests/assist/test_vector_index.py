"""The IVF index: close to exact search while scanning a fraction of the vectors; mutable; persistent."""

import numpy as np

from deskmate.assist.vector_index import IVFIndex


def _clustered(n: int, dim: int = 64, clusters: int = 200, noise: float = 0.35, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim)).astype(np.float32)
    x = centres[rng.integers(0, clusters, n)] + noise * rng.normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _exact(x: np.ndarray, q: np.ndarray, k: int) -> set[int]:
    return set(np.argsort(-(x @ q))[:k].tolist())


def test_recall_close_to_exact_while_scanning_a_fraction():
    x = _clustered(20_000)
    index = IVFIndex(n_probe=12).fit(x, np.arange(len(x)))
    assert index.centroids_ is not None and len(index.centroids_) >= 100
    rng = np.random.default_rng(1)
    queries = x[rng.integers(0, len(x), 50)]
    recall = np.mean([len(set(index.search(q, 10)[0].tolist()) & _exact(x, q, 10)) / 10 for q in queries])
    assert recall >= 0.9
    scanned = np.diff(index.offsets_)[np.argsort(-(index.centroids_ @ queries[0]))[:12]].sum()
    assert scanned < len(x) / 4  # the point of the index: most vectors are never compared


def test_small_index_is_exact_and_results_are_sorted():
    x = _clustered(500)
    index = IVFIndex().fit(x, np.arange(1000, 1500))
    assert index.centroids_ is None
    ids, scores = index.search(x[7], 5)
    assert ids[0] == 1007 and list(scores) == sorted(scores, reverse=True)
    assert set(ids.tolist()) == {i + 1000 for i in _exact(x, x[7], 5)}


def test_add_remove_and_compact_keep_answers_right(tmp_path):
    x = _clustered(6000)
    index = IVFIndex().fit(x[:5000], np.arange(5000))
    index.add(x[5000:5010], np.arange(5000, 5010))  # searchable at once, before any compaction
    assert index.search(x[5003], 1)[0][0] == 5003
    index.remove([5003, 17])
    assert 5003 not in index.search(x[5003], 5)[0] and 17 not in index.search(x[17], 5)[0]
    assert len(index) == 5008
    index.compact()
    assert len(index) == 5008 and index.search(x[5004], 1)[0][0] == 5004
    index.save(tmp_path / "ivf.npz")
    loaded = IVFIndex.load(tmp_path / "ivf.npz")
    assert loaded.search(x[123], 3)[0].tolist() == index.search(x[123], 3)[0].tolist()


def test_empty_index_answers_nothing():
    index = IVFIndex()
    ids, scores = index.search(np.ones(8, dtype=np.float32), 3)
    assert len(ids) == 0 and len(scores) == 0
    index.add(np.eye(8, dtype=np.float32)[:2], [4, 5])
    assert index.search(np.eye(8, dtype=np.float32)[1], 1)[0].tolist() == [5]
