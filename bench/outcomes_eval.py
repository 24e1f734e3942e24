"""Outcome scoring against the demo's ground truth, over several seeds.

For each seed a throw-away demo workspace is built (`deskmate.demo.build.build_demo`), the
resolution model is fitted on the earliest 70% of its history and judged on the latest 30%
(time-ordered hold-out), and policy adherence is checked on the same held-out part against
the steps the generator skipped or took out of order. Goals: resolution AUC >= 0.9,
policy-adherence precision and recall >= 0.95.

    .venv/bin/python bench/outcomes_eval.py [--seeds 7 11 23] [--conversations 2400]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

KEYS = ("resolution accuracy (4 outcomes)", "resolved-vs-not AUC", "macro one-vs-rest AUC", "P(resolved) calibration error",
        "rules only: accuracy", "rules only: resolved-vs-not AUC", "without the last 2 messages: AUC",
        "policy-adherence precision", "policy-adherence recall",
        "reopen precision", "reopen recall")


def evaluate_seed(seed: int, conversations: int, root: Path) -> dict:
    from deskmate.config import Settings
    from deskmate.db import make_engine, make_sessionmaker
    from deskmate.demo.build import build_demo
    from deskmate.outcomes.evaluation import evaluate_workspace

    settings = Settings(data_dir=root)
    engine = make_engine(settings.database_url)
    build = build_demo(settings, seed=seed, conversations=conversations, tenant="bench", reference_date="2026-11-20",
                       engine=engine)
    try:
        return evaluate_workspace(make_sessionmaker(engine), settings=settings, tenant_id=build.tenant_id,
                                  truth=build.data.truth["conversations"])
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 11, 23])
    parser.add_argument("--conversations", type=int, default=2400)
    args = parser.parse_args()
    results = {}
    for seed in args.seeds:
        root = Path(tempfile.mkdtemp(prefix=f"deskmate-outcomes-eval-{seed}-"))
        t0 = time.perf_counter()
        try:
            results[seed] = evaluate_seed(seed, args.conversations, root)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        r = results[seed]
        print(f"seed {seed}: {r['train conversations']} train / {r['held-out conversations']} held out, "
              f"{r['policy violations (truth)']} true violations, {r['policy violations flagged']} flagged "
              f"({time.perf_counter() - t0:.0f} s)")
    print(f"\n{'measure':36s} " + " ".join(f"{'seed ' + str(s):>9s}" for s in args.seeds) + f" {'mean':>9s}")
    for key in KEYS:
        values = [results[s][key] for s in args.seeds]
        shown = [f"{v:9.4f}" if v is not None else f"{'–':>9s}" for v in values]
        known = [v for v in values if v is not None]
        print(f"{key:36s} " + " ".join(shown) + (f" {sum(known) / len(known):9.4f}" if known else ""))
    worst_auc = min(results[s]["resolved-vs-not AUC"] for s in args.seeds)
    worst_policy = min(min(results[s]["policy-adherence precision"], results[s]["policy-adherence recall"])
                       for s in args.seeds)
    print(f"\ngoals: resolution AUC >= 0.9 {'met' if worst_auc >= 0.9 else 'NOT met'} (worst {worst_auc:.4f}); "
          f"policy-adherence precision and recall >= 0.95 {'met' if worst_policy >= 0.95 else 'NOT met'} "
          f"(worst {worst_policy:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
