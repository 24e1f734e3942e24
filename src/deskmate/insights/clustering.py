"""Topic discovery on sentence embeddings as two swappable stages: a reducer, then a clusterer.

`TopicModel(reducer=..., clusterer=...)` takes each stage as any object with the right method,
in BERTopic's manner: a reducer has `fit_transform(X)`, a clusterer `fit_predict(E)` (or `fit(E)`
then `labels_`; -1 marks noise, as HDBSCAN gives). So `TopicModel(clusterer=KMeans(50))` or
`TopicModel(reducer=PCA(20), clusterer=HDBSCAN())` are one-line changes; `Identity()` skips reducing.

The defaults are what was measured best on Banking77 (bench/topic_discovery.py): k-means on raw
MiniLM vectors, even given the true k, leaves NMI at 0.79; `SpectralReducer` (the spectral
embedding of a cosine k-nearest-neighbour graph) follows the manifold the sentences lie on and adds
several points. HDBSCAN and Louvain on the same graph were measured too and did no better.

`EigengapKMeans` never needs the number of topics: the eigengaps of the graph Laplacian (which
the reducer leaves in `eigenvalues_`; the model passes them as `spectrum=` to any clusterer whose
`fit_predict` accepts that keyword) propose a few candidate k, and the most *stable* one wins
(k-means on two random 80 % subsamples, agreement of their partitions by ARI); within
STABILITY_TOLERANCE of the best, the smallest k wins, since stability is flat near the top and
fewer topics read better. `TopicModel` is sklearn-shaped: `fit(X)` sets `labels_`, `n_topics_`,
`centroids_` (in the input space, for assigning newcomers).
"""

from __future__ import annotations

import inspect

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, laplacian
from scipy.sparse.linalg import eigsh
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

BLOCK = 2048
STABILITY_TOLERANCE = 0.01


def knn_graph(X: np.ndarray, n_neighbors: int = 15) -> sp.csr_matrix:
    """Symmetric cosine k-NN affinity (rows of X are L2-normalised); exact, in row blocks to bound memory."""
    n = len(X)
    k = min(n_neighbors, n - 1)
    rows, cols, vals = [], [], []
    for start in range(0, n, BLOCK):
        sims = X[start:start + BLOCK] @ X.T
        idx = np.arange(start, min(start + BLOCK, n))
        sims[idx - start, idx] = -np.inf
        nb = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        rows.append(np.repeat(idx, k))
        cols.append(nb.ravel())
        vals.append(np.take_along_axis(sims, nb, axis=1).ravel())
    A = sp.csr_matrix((np.clip(np.concatenate(vals), 1e-6, None), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    return A.maximum(A.T).tocsr()


def spectral_vectors(A: sp.csr_matrix, n_components: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The smallest eigenpairs of the normalised Laplacian, ascending (largest of 2I - L: fast to converge)."""
    n = A.shape[0]
    m = min(n_components, n - 2)
    L = laplacian(A, normed=True)
    shifted = (2 * sp.identity(n, format="csr") - L).tocsr()
    v0 = np.random.default_rng(seed).standard_normal(n)
    vals, vecs = eigsh(shifted, k=m, which="LA", v0=v0, tol=1e-6)
    order = np.argsort(-vals)
    return 2 - vals[order], vecs[:, order]


def row_normalise(E: np.ndarray) -> np.ndarray:
    return E / np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-12)


def eigengap_candidates(eigenvalues: np.ndarray, k_min: int, k_max: int, top: int = 5) -> list[int]:
    """k where the Laplacian spectrum jumps: k clusters well apart leave k eigenvalues near zero."""
    gaps = np.diff(eigenvalues)  # gaps[i] = lambda_{i+1} - lambda_i, i.e. the jump after k = i + 1 eigenvalues
    ks = np.arange(1, len(eigenvalues))
    ok = (ks >= k_min) & (ks <= k_max)
    if not ok.any():
        return [max(1, min(k_max, len(eigenvalues) - 1))]
    ranked = ks[ok][np.argsort(-gaps[ok])]
    return [int(k) for k in ranked[:top]]


def stability(E: np.ndarray, k: int, *, repeats: int = 3, fraction: float = 0.8, seed: int = 0) -> float:
    """Mean ARI between k-means partitions fitted on independent subsamples (Ben-Hur et al. 2002)."""
    rng = np.random.default_rng(seed)
    n = len(E)
    Z = row_normalise(E[:, :k])
    scores = []
    for r in range(repeats):
        a = rng.choice(n, int(fraction * n), replace=False)
        b = rng.choice(n, int(fraction * n), replace=False)
        ka = KMeans(k, n_init=1, random_state=seed + 2 * r).fit(Z[a])
        kb = KMeans(k, n_init=1, random_state=seed + 2 * r + 1).fit(Z[b])
        scores.append(adjusted_rand_score(ka.predict(Z), kb.predict(Z)))
    return float(np.mean(scores))


def default_max_topics(n: int, k_min: int = 2) -> int:
    """At most one topic per 15 conversations (and 200 in all): a topic of a handful reads as noise."""
    return max(k_min, min(max(k_min, min(200, n // 15)), n - 3))


class Identity:
    """A reducer that keeps the vectors as they are (cluster the raw embeddings)."""

    def fit_transform(self, X, y=None):
        return X

    def __repr__(self) -> str:
        return "Identity()"


class SpectralReducer:
    """Cosine k-NN graph -> the smallest eigenvectors of its normalised Laplacian (ascending), rows normalised.

    Leaves `eigenvalues_` (the spectrum, for choosing k) and `n_parts_` (disconnected pieces of
    the graph: each is at least its own topic). `n_components` defaults to `default_max_topics + 1`.
    """

    def __init__(self, n_neighbors: int = 15, n_components: int | None = None, seed: int = 0):
        self.n_neighbors, self.n_components, self.seed = n_neighbors, n_components, seed

    def fit_transform(self, X: np.ndarray, y=None) -> np.ndarray:
        n = len(X)
        A = knn_graph(X, self.n_neighbors)
        self.n_parts_ = int(connected_components(A, directed=False)[0])
        m = self.n_components or default_max_topics(n) + 1
        self.eigenvalues_, vecs = spectral_vectors(A, min(n - 2, m), seed=self.seed)
        # Rows on the unit sphere, so a plain k-means reads them well; a clusterer that keeps only the
        # first k columns re-normalises them, and a row's scale cancels out there.
        return row_normalise(vecs)

    def __repr__(self) -> str:
        return f"SpectralReducer(n_neighbors={self.n_neighbors}, n_components={self.n_components}, seed={self.seed})"


class EigengapKMeans:
    """k-means on the first k spectral coordinates, k estimated (eigengap proposals, most stable wins)."""

    def __init__(self, k_min: int = 2, k_max: int | None = None, candidates: int = 5, repeats: int = 3, seed: int = 0):
        self.k_min, self.k_max, self.candidates, self.repeats, self.seed = k_min, k_max, candidates, repeats, seed

    def fit_predict(self, E: np.ndarray, y=None, *, spectrum: np.ndarray | None = None, min_clusters: int = 1) -> np.ndarray:
        """`spectrum`: the Laplacian eigenvalues behind E's columns (without it, k is tried over k_min..k_max)."""
        n = len(E)
        k_max = max(self.k_min, min(self.k_max or default_max_topics(n, self.k_min), n - 3, E.shape[1]))
        k_low = min(max(self.k_min, min_clusters), k_max)
        if spectrum is not None:
            proposals = eigengap_candidates(spectrum, k_low, k_max, self.candidates)
        else:
            proposals = sorted({int(k) for k in np.linspace(k_low, k_max, self.candidates).round()})
        self.scores_ = {k: stability(E, k, repeats=self.repeats, seed=self.seed) for k in proposals}
        best = max(self.scores_.values())
        k = min(c for c, v in self.scores_.items() if v >= best - STABILITY_TOLERANCE)
        self.n_clusters_ = k
        self.labels_ = KMeans(k, n_init=10, random_state=self.seed).fit_predict(row_normalise(E[:, :k]))
        return self.labels_

    def fit(self, E: np.ndarray, y=None, **kwargs) -> "EigengapKMeans":
        self.fit_predict(E, **kwargs)
        return self

    def __repr__(self) -> str:
        return (f"EigengapKMeans(k_min={self.k_min}, k_max={self.k_max}, candidates={self.candidates}, "
                f"repeats={self.repeats}, seed={self.seed})")


def _accepts(method, name: str) -> bool:
    try:
        return name in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


def cluster_labels(clusterer, E: np.ndarray, reducer=None) -> np.ndarray:
    """Run one clusterer stage; the reducer's spectrum goes along to clusterers that ask for it."""
    method = getattr(clusterer, "fit_predict", None)
    if method is None:
        return np.asarray(clusterer.fit(E).labels_)
    kwargs = {}
    if getattr(reducer, "eigenvalues_", None) is not None and _accepts(method, "spectrum"):
        kwargs = {"spectrum": reducer.eigenvalues_, "min_clusters": getattr(reducer, "n_parts_", 1)}
    return np.asarray(method(E, **kwargs))


class TopicModel:
    """Topics from embeddings: reducer then clusterer (see the module docstring); k estimated by default.

    Above `max_fit` vectors the stages run on a sample and the rest join the nearest centroid.
    """

    def __init__(self, reducer=None, clusterer=None, *, max_fit: int = 12_000, seed: int = 0):
        self.reducer, self.clusterer, self.max_fit, self.seed = reducer, clusterer, max_fit, seed
        self.labels_: np.ndarray | None = None
        self.n_topics_ = 0
        self.centroids_: np.ndarray | None = None
        self.scores_: dict = {}
        self.eigenvalues_: np.ndarray | None = None

    def fit(self, X: np.ndarray, y=None) -> "TopicModel":
        X = row_normalise(np.asarray(X, dtype=np.float32))
        n = len(X)
        if n < 4:
            self.labels_ = np.zeros(n, dtype=int)
            self.n_topics_ = 1 if n else 0
            self.centroids_ = row_normalise(X.mean(0, keepdims=True)) if n else np.zeros((0, X.shape[1]), np.float32)
            return self
        rng = np.random.default_rng(self.seed)
        sample = np.sort(rng.choice(n, self.max_fit, replace=False)) if n > self.max_fit else np.arange(n)
        Xs = X[sample]
        self.reducer_ = self.reducer if self.reducer is not None else SpectralReducer(seed=self.seed)
        self.clusterer_ = self.clusterer if self.clusterer is not None else EigengapKMeans(seed=self.seed)
        E = np.asarray(self.reducer_.fit_transform(Xs))
        labels = cluster_labels(self.clusterer_, E, self.reducer_).astype(int)
        self.eigenvalues_ = getattr(self.reducer_, "eigenvalues_", None)
        self.scores_ = dict(getattr(self.clusterer_, "scores_", {}) or {})
        k = int(labels.max()) + 1 if (labels >= 0).any() else 0
        self.centroids_ = centroids(Xs[labels >= 0], labels[labels >= 0], k)
        self.n_topics_ = k
        self.labels_ = nearest(X, self.centroids_)[0] if len(sample) < n else labels
        return self

    def __repr__(self) -> str:
        return f"TopicModel(reducer={self.reducer!r}, clusterer={self.clusterer!r}, max_fit={self.max_fit}, seed={self.seed})"


def centroids(X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((k, X.shape[1]), dtype=np.float32)
    np.add.at(out, labels, X)
    return row_normalise(out)


def nearest(X: np.ndarray, C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest centroid and its cosine distance, for each row."""
    if len(C) == 0:
        return np.full(len(X), -1), np.full(len(X), np.inf)
    sims = X @ C.T
    best = sims.argmax(1)
    return best, 1.0 - sims[np.arange(len(X)), best]
