"""Topic discovery stages on sentence embeddings: neighbour graph -> spectral embedding -> k-means, k estimated.

Measured on Banking77 (bench/topic_discovery.py): k-means on raw MiniLM vectors, even given the
true k, leaves NMI at 0.79; clustering the spectral embedding of a cosine k-nearest-neighbour graph
follows the manifold the sentences lie on and adds several points. HDBSCAN and Louvain on the
same graph were measured too and did no better; UMAP was not needed for it.

The number of topics is estimated, never given: the eigengaps of the graph Laplacian propose a
few candidate k, and the most *stable* one wins (k-means on two random 80 % subsamples, agreement
of their partitions by ARI); within STABILITY_TOLERANCE of the best, the smallest k wins, since
stability is flat near the top and fewer topics read better. Each stage is a plain function so another reducer or clusterer is a
one-line change (the BERTopic lesson), and `TopicModel` is sklearn-shaped: `fit(X)` sets
`labels_`, `n_topics_`, `centroids_`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass
class TopicModel:
    """Spectral topic discovery with the number of topics estimated (see the module docstring)."""

    n_neighbors: int = 15
    k_min: int = 2
    k_max: int | None = None  # default: n / 15, at most 200
    candidates: int = 5
    repeats: int = 3
    max_fit: int = 12_000  # above this, fit on a sample and assign the rest to the nearest centroid
    seed: int = 0
    labels_: np.ndarray | None = field(default=None, init=False)
    n_topics_: int = field(default=0, init=False)
    centroids_: np.ndarray | None = field(default=None, init=False)
    scores_: dict = field(default_factory=dict, init=False)
    eigenvalues_: np.ndarray | None = field(default=None, init=False)

    def fit(self, X: np.ndarray) -> "TopicModel":
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
        k_max = max(self.k_min, min(self.k_max or max(self.k_min, min(200, len(Xs) // 15)), len(Xs) - 3))
        A = knn_graph(Xs, self.n_neighbors)
        n_parts, _ = connected_components(A, directed=False)
        vals, vecs = spectral_vectors(A, min(len(Xs) - 2, k_max + 1), seed=self.seed)
        self.eigenvalues_ = vals
        k_low = max(self.k_min, n_parts)  # each disconnected piece is at least its own topic
        proposals = eigengap_candidates(vals, k_low, k_max, self.candidates)
        self.scores_ = {k: stability(vecs, k, repeats=self.repeats, seed=self.seed) for k in proposals}
        best = max(self.scores_.values())
        k = min(c for c, v in self.scores_.items() if v >= best - STABILITY_TOLERANCE)
        labels = KMeans(k, n_init=10, random_state=self.seed).fit_predict(row_normalise(vecs[:, :k]))
        self.centroids_ = centroids(Xs, labels, k)
        self.n_topics_ = k
        if len(sample) < n:
            self.labels_ = nearest(X, self.centroids_)[0]
        else:
            self.labels_ = labels
        return self


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
