"""Topic-model stages, each alone and swapped: defaults unchanged, any reducer or clusterer object works."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import HDBSCAN, KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score

from deskmate.insights.clustering import EigengapKMeans, Identity, SpectralReducer, TopicModel


def fixed_input() -> tuple[np.ndarray, np.ndarray]:
    """Nine overlapping blobs of unequal size and spread on the sphere (seeded: the same every run)."""
    rng = np.random.default_rng(2024)
    k, dim = 9, 24
    centres = rng.standard_normal((k, dim))
    sizes = rng.integers(20, 70, size=k)
    spreads = rng.uniform(0.35, 0.75, size=k)
    X = np.concatenate([c + s * rng.standard_normal((n, dim)) for c, n, s in zip(centres, sizes, spreads)])
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32), np.repeat(np.arange(k), sizes)


def runs(encoded: str) -> np.ndarray:
    """'4x52 3x68' -> fifty-two 4s then sixty-eight 3s."""
    return np.concatenate([np.full(int(n), int(v)) for v, n in (part.split("x") for part in encoded.split())])


# Labels the hard-wired graph -> spectral -> k-means model gave on fixed_input() before its stages
# became constructor arguments (commit 9faa2fb): the defaults must keep giving exactly these.
BEFORE_FULL = runs("4x52 3x68 8x22 6x53 7x28 0x48 1x62 5x52 2x60")
BEFORE_SAMPLED = runs("1x52 6x68 1x10 6x1 1x4 2x1 1x1 4x1 1x2 2x1 1x1 5x53 1x28 0x48 4x62 2x52 3x60")


def test_default_stages_give_the_same_labels_as_before():
    X, _ = fixed_input()
    assert np.array_equal(TopicModel().fit(X).labels_, BEFORE_FULL)
    assert np.array_equal(TopicModel(max_fit=250).fit(X).labels_, BEFORE_SAMPLED)
    spelled_out = TopicModel(reducer=SpectralReducer(n_neighbors=15), clusterer=EigengapKMeans(k_min=2)).fit(X)
    assert np.array_equal(spelled_out.labels_, BEFORE_FULL)


def test_a_kmeans_clusterer_passed_in_works():
    X, y = fixed_input()
    model = TopicModel(clusterer=KMeans(9, n_init=5, random_state=0)).fit(X)
    assert model.n_topics_ == 9 and model.centroids_.shape == (9, X.shape[1])
    assert adjusted_rand_score(y, model.labels_) > 0.8  # all 30 spectral coordinates, trailing ones noisy
    matched = TopicModel(reducer=SpectralReducer(n_components=9), clusterer=KMeans(9, n_init=5, random_state=0)).fit(X)
    assert adjusted_rand_score(y, matched.labels_) > 0.95
    raw = TopicModel(reducer=Identity(), clusterer=KMeans(9, n_init=5, random_state=0)).fit(X)
    assert adjusted_rand_score(y, raw.labels_) > 0.9
    assert model.eigenvalues_ is not None and raw.eigenvalues_ is None  # only the spectral reducer has a spectrum


def test_other_reducers_and_noise_leaving_clusterers():
    X, y = fixed_input()
    model = TopicModel(reducer=PCA(12, random_state=0), clusterer=HDBSCAN(min_cluster_size=10, copy=True)).fit(X)
    kept = model.labels_ >= 0
    assert model.n_topics_ >= 5 and (~kept).any()  # HDBSCAN leaves some points out as noise
    assert adjusted_rand_score(y[kept], model.labels_[kept]) > 0.8
    assert len(model.centroids_) == model.n_topics_


def test_spectral_reducer_alone():
    X, _ = fixed_input()
    reducer = SpectralReducer(n_neighbors=10, n_components=20)
    E = reducer.fit_transform(X)
    assert E.shape == (len(X), 20) and reducer.n_parts_ >= 1
    assert np.all(np.diff(reducer.eigenvalues_) >= -1e-9) and abs(reducer.eigenvalues_[0]) < 1e-6


def test_eigengap_kmeans_alone_estimates_k_with_or_without_a_spectrum():
    X, y = fixed_input()
    reducer = SpectralReducer()
    E = reducer.fit_transform(X)
    clusterer = EigengapKMeans()
    labels = clusterer.fit_predict(E, spectrum=reducer.eigenvalues_)
    assert clusterer.n_clusters_ == 9 and adjusted_rand_score(y, labels) > 0.95
    blind = EigengapKMeans(k_min=6, k_max=12, candidates=7).fit(E)  # no spectrum: k tried over the range
    assert 6 <= blind.n_clusters_ <= 12 and set(blind.scores_) <= set(range(6, 13))
