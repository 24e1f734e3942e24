"""Intent classification on Banking77: full training set, 30 and 10 examples per intent, and out of scope.

    .venv/bin/python bench/intent_accuracy.py            # full run (figures in docs/bench/nlp-intents.md)
    .venv/bin/python bench/intent_accuracy.py --quick    # smoke run: 20 intents, one draw

Reads DESKMATE_DATA (default ../shared/data). Accuracy is top-1 over the 3,080 test
utterances (the published metric); training time includes embedding the examples with an
empty encoder cache; latency is one `predict_with_confidence` call on one unseen message.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from deskmate.nlp.intent import IntentClassifier  # noqa: E402
from deskmate.nlp.intent_data import LabelledTexts, read_labelled  # noqa: E402
from deskmate.nlp.intent_eval import evaluate  # noqa: E402

PUBLISHED = {  # Casanueva et al. 2020, Table 3 (10 / 30 / full), from ../shared/data/README.md
    "BERT-Large fine-tuned": (83.42, 90.03, 93.66),
    "USE + ConveRT dual encoders": (85.19, 90.57, 93.36),
}


def data_dir() -> Path:
    path = Path(os.environ.get("DESKMATE_DATA", ROOT.parent / "shared" / "data"))
    return path if path.is_absolute() else (ROOT / path).resolve()


def restrict(data: LabelledTexts, intents: set[str]) -> LabelledTexts:
    return data.without_labels(sorted(set(data.labels) - intents))


def clear_encoder_cache(model: IntentClassifier) -> None:
    model._encoder()._cache.clear()


def run_once(train: LabelledTexts, test: LabelledTexts, *, seed: int, finetune: bool, models_dir: Path) -> dict:
    model = IntentClassifier(finetune=finetune, random_state=seed, models_dir=models_dir)
    clear_encoder_cache(model)
    started = time.perf_counter()
    model.fit(train.texts, train.labels)
    train_seconds = time.perf_counter() - started
    clear_encoder_cache(model)
    probes = random.Random(seed).sample(test.texts, min(200, len(test.texts)))
    model.predict_with_confidence(["warm up the encoder"])
    timings, cpu = [], []
    for text in probes:
        t0, c0 = time.perf_counter(), time.process_time()
        model.predict_with_confidence([text])
        timings.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    report = evaluate(model, test.texts, test.labels)
    return {"accuracy": report.accuracy, "macro_f1": report.macro_f1, "train_seconds": train_seconds,
            "in_scope_withheld": report.in_scope_withheld, "calibration": model.calibration_,
            "latency_ms_p50": statistics.median(timings), "latency_ms_p95": sorted(timings)[int(0.95 * len(timings))],
            "cpu_ms_p50": statistics.median(cpu), "calibration_error": report.calibration_error,
            "mean_confidence": report.mean_confidence,
            "answered_accuracy": report.answered_accuracy, "threshold": model.threshold_,
            "temperature": model.temperature_, "text_weight": model.text_weight_, "finetuned": model.finetune_epochs_ > 0}


def setting(name: str, train: LabelledTexts, test: LabelledTexts, *, per_intent: int | None, draws: int,
            finetune: bool, models_dir: Path) -> dict:
    runs = []
    for seed in range(draws):
        subset = train.per_intent(per_intent, seed=seed) if per_intent else train
        run = run_once(subset, test, seed=seed, finetune=finetune, models_dir=models_dir)
        runs.append(run)
        print(f"  {name} draw {seed}: accuracy {100 * run['accuracy']:.2f}%  train {run['train_seconds']:.0f}s  "
              f"p50 {run['latency_ms_p50']:.1f} ms (CPU {run['cpu_ms_p50']:.1f} ms)  ECE {run['calibration_error']:.3f}  (T {run['temperature']:.2f}, text weight {run['text_weight']})",
              flush=True)
        print(f"    at the default threshold {run['threshold']:.3f}: {100 * run['in_scope_withheld']:.2f}% withheld, "
              f"answered right {100 * run['answered_accuracy']:.2f}% (top label {100 * run['accuracy']:.2f}%)", flush=True)
    mean = lambda key: statistics.fmean(r[key] for r in runs)  # noqa: E731
    return {"setting": name, "draws": len(runs), "accuracy_mean": mean("accuracy"),
            "answered_right_mean": mean("answered_accuracy"), "withheld_mean": mean("in_scope_withheld"),
            "accuracy_std": statistics.pstdev(r["accuracy"] for r in runs), "macro_f1_mean": mean("macro_f1"),
            "train_seconds_mean": mean("train_seconds"), "latency_ms_p50": mean("latency_ms_p50"),
            "latency_ms_p95": mean("latency_ms_p95"), "cpu_ms_p50": mean("cpu_ms_p50"), "runs": runs}


def out_of_scope(train: LabelledTexts, test: LabelledTexts, *, held: int, seed: int, finetune: bool,
                 models_dir: Path) -> dict:
    """Train without `held` intents; their test utterances should be answered "no known intent".

    Banking77 has no out-of-scope class, so `held` intents drawn at random (seeded) stand in for
    the reasons a team has not labelled yet: left out of training, their test rows are scored as
    out of scope (`evaluate` treats labels the model never saw so).
    """
    intents = sorted(set(train.labels))
    unknown = sorted(random.Random(1000 + seed).sample(intents, held))
    known_train = restrict(train, set(intents) - set(unknown))
    model = IntentClassifier(finetune=finetune, random_state=seed, models_dir=models_dir)
    started = time.perf_counter()
    model.fit(known_train.texts, known_train.labels)
    train_seconds = time.perf_counter() - started
    report = evaluate(model, test.texts, test.labels)  # held-out labels are unseen: scored as out of scope
    print(f"  out of scope: {held} intents left out of training, their {report.out_of_scope} test rows scored as "
          f"unknown ({', '.join(unknown)})", flush=True)
    for row in report.curve:
        precision = "n/a" if row["oos_precision"] is None else f"{100 * row['oos_precision']:.1f}%"
        print(f"    threshold {row['threshold']:.3f}{' (chosen)' if row['chosen'] else ''}: in-scope answered right "
              f"{100 * row['in_scope_answered_right']:.1f}%, withheld {100 * row['in_scope_withheld']:.1f}%; "
              f"OOS recall {100 * row['oos_recall']:.1f}%, precision {precision}", flush=True)
    return {"held_out_intents": unknown, "train_seconds": train_seconds, "threshold": model.threshold_,
            "curve": report.curve, "calibration": model.calibration_, "in_scope_accuracy": report.accuracy,
            "in_scope_answered_right": report.answered_accuracy, "in_scope_withheld": report.in_scope_withheld,
            "oos_recall": report.oos_recall, "oos_precision": report.oos_precision,
            "in_scope": report.in_scope, "out_of_scope": report.out_of_scope}


def compare_encoders(texts: list[str], models_dir: Path) -> dict:
    """Both encoder backends on the same messages: one-message latency, batch throughput, agreement."""
    import numpy as np

    from deskmate.nlp.encoder import load_encoder

    out, vectors = {}, {}
    for backend in ("minilm", "minilm-onnx"):
        started = time.perf_counter()
        encoder = load_encoder(backend, models_dir=models_dir)
        load_seconds = time.perf_counter() - started
        encoder.cache_size = 0
        encoder.encode(["warm up"])
        timings, cpu = [], []
        for text in texts[:300]:
            t0, c0 = time.perf_counter(), time.process_time()
            encoder.encode([text])
            timings.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        t0 = time.perf_counter()
        vectors[backend] = encoder.encode(texts)
        out[backend] = {"load_seconds": load_seconds, "single_ms_p50": statistics.median(timings),
                        "single_cpu_ms_p50": statistics.median(cpu), "per_second": len(texts) / (time.perf_counter() - t0)}
        print(f"  encoder {backend}: one message p50 {out[backend]['single_ms_p50']:.2f} ms "
              f"(CPU {out[backend]['single_cpu_ms_p50']:.2f} ms), "
              f"{out[backend]['per_second']:.0f} messages/s, load {load_seconds:.1f}s", flush=True)
    cosine = (vectors["minilm"] * vectors["minilm-onnx"]).sum(axis=1)
    out["cosine_mean"], out["cosine_min"] = float(cosine.mean()), float(np.min(cosine))
    print(f"  int8 vs fp32 cosine: mean {out['cosine_mean']:.4f}, min {out['cosine_min']:.4f}", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 intents, one draw, no full-set run")
    parser.add_argument("--draws", type=int, default=5, help="random draws for the 10 and 30 per intent settings")
    parser.add_argument("--finetune", action="store_true", help="fine-tune the encoder (SetFit-style) in every run")
    parser.add_argument("--only", choices=["full", "30", "10", "oos", "encoders"], action="append",
                        help="run only these parts (repeatable)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args()

    folder = data_dir() / "banking77"
    if not (folder / "train.csv").exists():
        print(f"Banking77 not found under {folder} (set DESKMATE_DATA)", file=sys.stderr)
        return 2
    train, test = read_labelled(folder / "train.csv"), read_labelled(folder / "test.csv")
    draws = 1 if args.quick else args.draws
    if args.quick:
        keep = set(sorted(set(train.labels))[:20])
        train, test = restrict(train, keep), restrict(test, keep)
    parts = set(args.only or (["30", "10", "oos"] if args.quick else ["encoders", "full", "30", "10", "oos"]))
    models_dir = Path(tempfile.mkdtemp(prefix="deskmate-bench-"))
    print(f"Banking77: {len(train)} training and {len(test)} test utterances, {len(set(train.labels))} intents; "
          f"fine-tuning {'on' if args.finetune else 'off'}", flush=True)
    results: dict = {"settings": [], "command": " ".join(["bench/intent_accuracy.py", *sys.argv[1:]])}
    if "encoders" in parts:
        results["encoders"] = compare_encoders(test.texts[:1000], models_dir)
    for name, per_intent, n_draws in (("full", None, 1), ("30", 30, draws), ("10", 10, draws)):
        if name in parts:
            results["settings"].append(setting(name if name == "full" else f"{name} per intent", train, test,
                                               per_intent=per_intent, draws=n_draws, finetune=args.finetune,
                                               models_dir=models_dir))
    if "oos" in parts:
        held = 4 if args.quick else 10
        results["out_of_scope"] = oos = out_of_scope(train, test, held=held, seed=0, finetune=args.finetune,
                                                     models_dir=models_dir)
        print(f"  out of scope ({held} intents held out): in-scope accuracy {100 * oos['in_scope_accuracy']:.2f}%, "
              f"answered right {100 * oos['in_scope_answered_right']:.2f}%, withheld {100 * oos['in_scope_withheld']:.2f}%;"
              f" OOS recall {100 * oos['oos_recall']:.2f}%, precision {100 * oos['oos_precision']:.2f}% "
              f"(threshold {oos['threshold']:.3f})", flush=True)

    print("\nsetting            accuracy (mean ± sd)   macro-F1   train (s)   p50 latency (ms)   p50 CPU (ms)")
    for row in results["settings"]:
        print(f"{row['setting']:<18} {100 * row['accuracy_mean']:6.2f} ± {100 * row['accuracy_std']:4.2f}       "
              f"{100 * row['macro_f1_mean']:6.2f}   {row['train_seconds_mean']:8.1f}   {row['latency_ms_p50']:8.2f}"
              f"           {row['cpu_ms_p50']:6.2f}")
    full = next((row for row in results["settings"] if row["setting"] == "full"), None)
    if full or "out_of_scope" in results:
        print("\ndefault operating point (at most 5% of in-scope withheld, answered right at most 2 points under the top"
              " label; chosen on held-out training rows):")
    if full:
        print(f"  full training set -> test: {100 * full['withheld_mean']:.2f}% of in-scope messages withheld, "
              f"answered right {100 * full['answered_right_mean']:.2f}%, top-label accuracy "
              f"{100 * full['accuracy_mean']:.2f}% (no out-of-scope rows in this test set)")
    if "out_of_scope" in results:
        oos = results["out_of_scope"]
        print(f"  {len(oos['held_out_intents'])} intents left out as unknown: {100 * oos['in_scope_withheld']:.2f}% of "
              f"in-scope withheld, answered right {100 * oos['in_scope_answered_right']:.2f}%, top-label accuracy "
              f"{100 * oos['in_scope_accuracy']:.2f}%, out-of-scope recall {100 * oos['oos_recall']:.2f}%")
    print("published (10 / 30 / full): " + "; ".join(f"{k} {a} / {b} / {c}" for k, (a, b, c) in PUBLISHED.items()))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
