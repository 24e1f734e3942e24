"""Topic discovery with no labels and no given number of clusters: Banking77 queries, or reasons on real dialogues.

Default: clusters the 3,080 Banking77 test utterances with deskmate.insights.clustering.TopicModel
(the same stage the product runs), then scores the partition against the 77 true intents: NMI,
ARI, clustering accuracy (Hungarian matching) and the number of topics found. Also prints the
k-means floor (raw MiniLM embeddings, k = 77 given).

--sgd: imports the Schema-Guided Dialogue dev dialogues (USER turns as the customer, SYSTEM turns
as the agent, service calls as actions) into a scratch workspace WITHOUT their reasons, runs the
"reasons from topics" preparation step (records, topics, reasons: what `deskmate prepare` does
before the intent model trains) and scores the reasons found against each dialogue's true first
intent (its first non-NONE active_intent), beside the majority-reason baseline.

Times are wall and CPU seconds; the machine may be shared.

    .venv/bin/python bench/topic_discovery.py [--floor] [--sgd]
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


def sgd_records(folder: Path) -> tuple[list[dict], dict[str, str]]:
    """Canonical conversation records (no reason) and the true first intent of each, by external id."""
    import gzip
    import json

    records, truth = [], {}
    for path in sorted(folder.glob("dialogues_*.json.gz")):
        for d in json.loads(gzip.open(path, "rt", encoding="utf-8").read()):
            entries, intent = [], None
            for turn in d["turns"]:
                if turn["speaker"] == "USER":
                    intent = intent or next((f["state"]["active_intent"] for f in turn["frames"]
                                             if f.get("state", {}).get("active_intent", "NONE") != "NONE"), None)
                    entries.append({"role": "customer", "text": turn["utterance"]})
                    continue
                for f in turn["frames"]:
                    if f.get("service_call"):
                        entries.append({"role": "agent", "action": f["service_call"]["method"][:64],
                                        "values": f["service_call"].get("parameters", {})})
                entries.append({"role": "agent", "text": turn["utterance"]})
            if intent:
                records.append({"id": d["dialogue_id"], "status": "closed", "entries": entries})
                truth[d["dialogue_id"]] = intent
    return records, truth


def sgd(args) -> int:
    import tempfile

    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
    from sqlalchemy import select

    from deskmate.accounts.service import get_or_create_tenant
    from deskmate.config import Settings
    from deskmate.conversations.models import Conversation
    from deskmate.db import make_engine, make_sessionmaker, migrate, session_scope
    from deskmate.importers import import_records
    from deskmate.reasons.service import prepare_reasons

    folder = data_dir() / "sgd" / "dev"
    if not folder.exists():
        print(f"error: {folder} not found (set DESKMATE_DATA)", file=sys.stderr)
        return 2
    records, truth = sgd_records(folder)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), db_url=f"sqlite:///{tmp}/bench.db")
        engine = make_engine(settings.database_url)
        migrate(engine)
        factory = make_sessionmaker(engine)
        with session_scope(factory) as s:
            tenant_id = get_or_create_tenant(s, slug="sgd", name="SGD").id
        imported = import_records(factory, tenant_id=tenant_id, records=records, source="sgd")
        t0, c0 = time.perf_counter(), time.process_time()
        result = prepare_reasons(settings, factory, tenant_id)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        with session_scope(factory) as s:
            got = dict(s.execute(select(Conversation.external_id, Conversation.reason).where(Conversation.tenant_id == tenant_id)).all())
        engine.dispose()
    ids = sorted(truth)
    y, pred = [truth[i] for i in ids], [got.get(i) or "(none)" for i in ids]
    majority = max(set(y), key=y.count)
    base = [majority] * len(y)
    print(f"SGD dev: {imported.created} dialogues imported without reasons, {len(set(y))} true first intents")
    print(f"reasons from topics: {len(set(pred))} reasons ({result['reasons']['without_reason']} conversations left without), "
          f"NMI {normalized_mutual_info_score(y, pred):.4f}  ARI {adjusted_rand_score(y, pred):.4f}  "
          f"ACC {clustering_accuracy(*[np.unique(v, return_inverse=True)[1] for v in (y, pred)]):.4f}")
    print(f"majority-reason baseline ({majority}): NMI {normalized_mutual_info_score(y, base):.4f}  "
          f"ARI {adjusted_rand_score(y, base):.4f}  ACC {y.count(majority) / len(y):.4f}")
    print(f"time (records, topics, reasons): {wall:.1f}s wall / {cpu:.1f}s cpu; load average {os.getloadavg()[0]:.1f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--floor", action="store_true", help="also run k-means on raw embeddings with k = 77 given")
    parser.add_argument("--sgd", action="store_true", help="reasons from topics on SGD dialogues imported without reasons")
    parser.add_argument("--encoder", default=None, help="encoder backend (default: settings)")
    args = parser.parse_args()
    if args.sgd:
        return sgd(args)

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
