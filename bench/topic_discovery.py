"""Topic discovery on Banking77 with no labels and no given number of clusters.

Clusters the 3,080 test utterances with deskmate.insights.clustering.TopicModel (the same stage
the product runs), then scores the partition against the 77 true intents: NMI, ARI, clustering
accuracy (Hungarian matching) and the number of topics found. Also prints the k-means floor
(raw MiniLM embeddings, k = 77 given). Times are wall and CPU seconds; the machine may be shared.

    .venv/bin/python bench/topic_discovery.py [--floor] [--k-min N]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    path = Path(os.environ.get("DESKMATE_DATA", ROOT.parent / "shared" / "data"))
    return path if path.is_absolute() else (ROOT / path).resolve()


def clustering_accuracy(truth: np.ndarray, pred: np.ndarray) -> float:
    from scipy.optimize import linear_sum_assignment

    size = max(truth.max(), pred.max()) + 1
    w = np.zeros((size, size), dtype=np.int64)
    np.add.at(w, (pred, truth), 1)
    r, c = linear_sum_assignment(-w)
    return float(w[r, c].sum() / len(truth))


def scores(truth: np.ndarray, pred: np.ndarray) -> dict:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {"nmi": normalized_mutual_info_score(truth, pred), "ari": adjusted_rand_score(truth, pred),
            "acc": clustering_accuracy(truth, pred), "topics": int(len(np.unique(pred)))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--floor", action="store_true", help="also run k-means on raw embeddings with k = 77 given")
    parser.add_argument("--encoder", default=None, help="encoder backend (default: settings)")
    args = parser.parse_args()

    from deskmate.config import Settings
    from deskmate.insights.clustering import TopicModel
    from deskmate.nlp.encoder import get_encoder

    path = data_dir() / "banking77" / "test.csv"
    if not path.exists():
        print(f"error: {path} not found (set DESKMATE_DATA)", file=sys.stderr)
        return 2
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    texts = [r["text"] for r in rows]
    truth = np.unique([r["category"] for r in rows], return_inverse=True)[1]

    settings = Settings()
    t0, c0 = time.perf_counter(), time.process_time()
    encoder = get_encoder(settings, backend=args.encoder) if args.encoder else get_encoder(settings)
    X = encoder.encode(texts)
    t_enc, c_enc = time.perf_counter() - t0, time.process_time() - c0
    t1, c1 = time.perf_counter(), time.process_time()
    model = TopicModel().fit(X)
    t_fit, c_fit = time.perf_counter() - t1, time.process_time() - c1
    s = scores(truth, model.labels_)
    print(f"Banking77 test: {len(texts)} utterances, {len(np.unique(truth))} true intents, encoder {encoder.name}")
    print(f"topics found (k estimated): {s['topics']}  candidates {{k: stability}}: "
          + ", ".join(f"{k}: {v:.3f}" for k, v in sorted(model.scores_.items())))
    print(f"NMI {s['nmi']:.4f}  ARI {s['ari']:.4f}  ACC {s['acc']:.4f}")
    print(f"time: encode {t_enc:.1f}s wall / {c_enc:.1f}s cpu, cluster {t_fit:.1f}s wall / {c_fit:.1f}s cpu, "
          f"total {t_enc + t_fit:.1f}s wall; load average {os.getloadavg()[0]:.1f}")
    if args.floor:
        from sklearn.cluster import KMeans

        f = scores(truth, KMeans(77, n_init=10, random_state=0).fit_predict(X))
        print(f"floor, k-means on raw embeddings with k=77 given: NMI {f['nmi']:.4f}  ARI {f['ari']:.4f}  ACC {f['acc']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
