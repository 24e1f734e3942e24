"""Real history, no labels: Deskmate as a new team would meet it, on real task-oriented dialogues.

Converts the Schema-Guided Dialogue dev split (DESKMATE_DATA/sgd/dev, README in the data folder) to
canonical JSONL (docs/formats.md): USER turns are the customer's messages, SYSTEM turns the agent's,
each `service_call` becomes an agent action (its method, with its parameters as values) just before
the agent turn that reports it; the reason is the user's first non-NONE active intent; times are
synthetic and increasing (one conversation a minute apart), so a holdout "by time" is well defined;
no outcomes. Then `deskmate import jsonl` -> `deskmate prepare` -> `deskmate replay --holdout 0.2`
in a scratch workspace, twice: with reasons given ("labelled") and with no reasons and no outcomes
("unlabelled", the realistic case). Each figure is printed beside the baselines the replay computes
on the same moments; the unlabelled run also scores the topics the workspace found against the true
first intent (kept aside by the converter, never imported) by NMI. CPU seconds per prepare stage
are recorded per 1,000 conversations.

    .venv/bin/python bench/real_history.py [--limit 600] [--mode both] [--out results/real_history]
"""

from __future__ import annotations

import argparse
import glob
import gzip
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
SOURCE = "jsonl"


def data_dir() -> Path:
    path = Path(os.environ.get("DESKMATE_DATA", ROOT.parent / "shared" / "data"))
    return path if path.is_absolute() else (ROOT / path).resolve()


# --- the data-set adapter ------------------------------------------------------------------------

def read_dialogues(folder: Path, limit: int | None = None, seed: int = 0) -> list[dict]:
    """The dialogues in a seeded random order, at most `limit`.

    The published files are grouped by service (dialogues_016..020 are all events, cars, attractions):
    taken in file order, the most recent 20 % would hold services the training part never saw. A
    team's history interleaves its topics over time, so the order (hence the synthetic times) is a
    fixed shuffle.
    """
    files = sorted(glob.glob(str(folder / "dialogues_*.json.gz")))
    if not files:
        raise SystemExit(f"no dialogues_*.json.gz in {folder} (set --data or DESKMATE_DATA)")
    out: list[dict] = []
    for name in files:
        with gzip.open(name, "rt", encoding="utf-8") as fh:
            out.extend(json.load(fh))
    random.Random(seed).shuffle(out)
    return out[:limit] if limit else out


def first_intent(dialogue: dict) -> str | None:
    """The user's first non-NONE active intent: the reason for contact."""
    for turn in dialogue["turns"]:
        if turn["speaker"] != "USER":
            continue
        for frame in turn["frames"]:
            intent = (frame.get("state") or {}).get("active_intent")
            if intent and intent != "NONE":
                return intent
    return None


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def to_canonical(dialogue: dict, index: int, *, labelled: bool) -> dict:
    """One SGD dialogue as one canonical conversation (no outcome; reason only when `labelled`)."""
    t = START + timedelta(minutes=index)
    entries = []
    for turn in dialogue["turns"]:
        if turn["speaker"] == "SYSTEM":
            for frame in turn["frames"]:
                call = frame.get("service_call")
                if call:
                    t += timedelta(seconds=2)
                    entries.append({"role": "agent", "action": call["method"], "values": dict(call.get("parameters") or {}),
                                    "time": _iso(t)})
        t += timedelta(seconds=5)
        entries.append({"role": "customer" if turn["speaker"] == "USER" else "agent", "text": turn["utterance"],
                        "time": _iso(t)})
    record = {"id": f"sgd-{dialogue['dialogue_id']}", "channel": "chat", "started_at": _iso(START + timedelta(minutes=index)),
              "ended_at": _iso(t), "status": "closed", "agent": {"id": "agent-1", "name": "Agent"},
              "customer": {"id": f"cust-{dialogue['dialogue_id']}"}, "entries": entries}
    if labelled:
        reason = first_intent(dialogue)
        if reason:
            record["reason"] = reason
    return record


def convert(dialogues: list[dict], path: Path, *, labelled: bool) -> dict[str, str]:
    """Write the canonical JSONL; return the true first intent per conversation id (kept aside)."""
    truth = {}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for i, dialogue in enumerate(dialogues):
            record = to_canonical(dialogue, i, labelled=labelled)
            truth[record["id"]] = first_intent(dialogue)
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return truth


# --- the run: import -> prepare -> replay --------------------------------------------------------

def cpu_seconds() -> float:
    """CPU time of this process, every thread (the encoder's ONNX threads included), plus finished children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def topic_nmi(settings, factory, tenant_id: int, truth: dict[str, str]) -> dict:
    """NMI of the workspace's topic assignment (level-1 topic per conversation) against the true first intent."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
    from sqlalchemy import select

    from deskmate.db import session_scope
    from deskmate.insights.models import InsightRecord

    with session_scope(factory) as session:
        rows = session.execute(select(InsightRecord.external_id, InsightRecord.topic_id)
                               .where(InsightRecord.tenant_id == tenant_id)).all()
    pairs = [(truth[e], -1 if t is None else t) for e, t in rows if truth.get(e)]
    if not pairs:
        return {"nmi": None, "note": "no insight records: topics not found"}
    true, found = zip(*pairs)
    return {"nmi": round(float(normalized_mutual_info_score(true, found)), 4),
            "ari": round(float(adjusted_rand_score(true, found)), 4),
            "topics": len(set(found) - {-1}), "intents": len(set(true)), "conversations": len(pairs),
            "unassigned": sum(1 for f in found if f == -1)}


def run_mode(mode: str, dialogues: list[dict], workdir: Path, holdout: float) -> dict:
    from deskmate.accounts.service import get_or_create_tenant
    from deskmate.assist.replay import run_replay
    from deskmate.cli import open_store
    from deskmate.config import Settings
    from deskmate.db import session_scope
    from deskmate.plugins import default_prepare_steps
    from deskmate.prepare import prepare_workspace_all
    from deskmate.importers import get_importer, run_import

    labelled = mode == "labelled"
    home = workdir / mode
    if home.exists():
        import shutil

        shutil.rmtree(home)
    home.mkdir(parents=True)
    path = home / "history.jsonl"
    truth = convert(dialogues, path, labelled=labelled)
    settings = Settings(data_dir=home)
    engine, factory = open_store(settings)
    with session_scope(factory) as session:
        tenant_id = get_or_create_tenant(session, slug="real").id
    n = len(dialogues)
    result: dict = {"mode": mode, "conversations": n, "holdout": holdout, "stages": {}}

    wall, cpu = time.perf_counter(), cpu_seconds()
    summary = run_import(factory, tenant_id=tenant_id, importer=get_importer("jsonl"), path=path)
    result["import"] = {"created": summary.created, "rejected": summary.rejected, "messages": summary.messages,
                        "wall_s": round(time.perf_counter() - wall, 2), "cpu_s": round(cpu_seconds() - cpu, 2)}
    if summary.rejected:
        print(f"  rejected: {summary.rejections[:3]}", file=sys.stderr)
    print(f"[{mode}] imported {summary.created} conversations ({summary.messages} messages) "
          f"in {result['import']['wall_s']} s", flush=True)

    for prepare_step in default_prepare_steps():  # `deskmate prepare`, one stage at a time so each is timed
        wall, cpu = time.perf_counter(), cpu_seconds()
        report = prepare_workspace_all(settings, factory, tenant_id, steps=[prepare_step])
        step = report.steps[0]
        spent = cpu_seconds() - cpu
        result["stages"][step.domain] = {"wall_s": round(time.perf_counter() - wall, 2), "cpu_s": round(spent, 2),
                                         "cpu_s_per_1000": round(spent * 1000 / n, 2), "error": step.error}
        print(f"[{mode}] prepare {step.domain}: {result['stages'][step.domain]}", flush=True)
    total = sum(s["cpu_s"] for s in result["stages"].values())
    result["prepare_cpu_s_per_1000"] = round(total * 1000 / n, 2)
    result["topics"] = topic_nmi(settings, factory, tenant_id, truth)
    print(f"[{mode}] topics vs true first intent: {result['topics']}", flush=True)

    wall, cpu = time.perf_counter(), cpu_seconds()
    replay = run_replay(settings, factory, tenant_slug="real", holdout=holdout, progress=None)
    result["replay"] = replay.as_dict()
    result["replay_wall_s"], result["replay_cpu_s"] = round(time.perf_counter() - wall, 2), round(cpu_seconds() - cpu, 2)
    engine.dispose()
    return result


# --- the tables ----------------------------------------------------------------------------------

def _fmt(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def rows(result: dict) -> list[tuple]:
    """(figure, value, n, baselines text, strongest baseline, margin in points) per replay figure, then topics."""
    replay = result["replay"]
    baselines = replay.get("baselines", {})
    out = []
    for name, value in replay["figures"].items():
        base = {k: v for k, v in (baselines.get(name) or {}).items() if v is not None}
        best = max(base.values()) if base else None
        margin = None if value is None or best is None else round(100 * (value - best), 1)
        out.append((name, value, replay["counts"].get(name), ", ".join(f"{k} {_fmt(v)}" for k, v in base.items()),
                    best, margin))
    topics = result.get("topics") or {}
    out.append(("topics_nmi_vs_first_intent", topics.get("nmi"), topics.get("conversations"),
                f"{topics.get('topics')} topics for {topics.get('intents')} intents", None, None))
    return out


def markdown(results: list[dict]) -> str:
    lines = []
    for result in results:
        replay = result["replay"]
        lines += [f"### {result['mode']}: {result['conversations']} conversations, replay of {replay['replayed']} held out "
                  f"(trained on {replay['trained_on']})", "",
                  "| figure | value | n | baselines (same moments) | strongest baseline | margin (points) |",
                  "|---|---|---|---|---|---|"]
        for name, value, n, base, best, margin in rows(result):
            lines.append(f"| {name} | {_fmt(value)} | {n if n is not None else ''} | {base} | {_fmt(best)} | "
                         f"{'' if margin is None else f'{margin:+.1f}'} |")
        lines += ["", "prepare CPU seconds per 1,000 conversations: " + ", ".join(
            f"{k} {v['cpu_s_per_1000']}" for k, v in result["stages"].items())
            + f"; total {result['prepare_cpu_s_per_1000']} (wall " + ", ".join(
            f"{k} {v['wall_s']} s" for k, v in result["stages"].items()) + ")", ""]
        for note in replay.get("notes", []):
            lines.append(f"note: {note}")
        lines.append("")
    if len(results) == 2:
        by_mode = {r["mode"]: dict((row[0], row[1]) for row in rows(r)) for r in results}
        lines += ["### unlabelled as a share of labelled", "", "| figure | labelled | unlabelled | share |", "|---|---|---|---|"]
        for name, lab in by_mode["labelled"].items():
            unl = by_mode["unlabelled"].get(name)
            share = f"{unl / lab:.0%}" if lab and unl is not None else "—"
            lines.append(f"| {name} | {_fmt(lab)} | {_fmt(unl)} | {share} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="SGD dialogues folder (default DESKMATE_DATA/sgd/dev)")
    parser.add_argument("--limit", type=int, default=None, help="at most this many dialogues (quick runs)")
    parser.add_argument("--mode", choices=["labelled", "unlabelled", "both"], default="both")
    parser.add_argument("--workdir", type=Path, default=None, help="scratch folder for the workspaces (default: a temp dir)")
    parser.add_argument("--holdout", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0, help="seed of the order the dialogues are put in time")
    parser.add_argument("--out", type=Path, default=None, help="write the figures to OUT.json and OUT.md")
    parser.add_argument("--convert-only", type=Path, default=None, metavar="DIR",
                        help="only write DIR/labelled.jsonl, DIR/unlabelled.jsonl and DIR/truth.json")
    args = parser.parse_args()

    folder = args.data or data_dir() / "sgd" / "dev"
    dialogues = read_dialogues(folder, args.limit, args.seed)
    if args.convert_only is not None:
        truth = convert(dialogues, args.convert_only / "labelled.jsonl", labelled=True)
        convert(dialogues, args.convert_only / "unlabelled.jsonl", labelled=False)
        (args.convert_only / "truth.json").write_text(json.dumps(truth))
        print(f"{len(dialogues)} dialogues converted into {args.convert_only}")
        return 0
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="deskmate-real-history-"))
    if args.mode != "both":
        results = [run_mode(args.mode, dialogues, workdir, args.holdout)]
    else:  # each mode in a fresh process: no encoder cache or loaded model carried from one to the other
        results = []
        for mode in ("labelled", "unlabelled"):
            part = workdir / f"{mode}-result"
            command = [sys.executable, __file__, "--mode", mode, "--data", str(folder), "--workdir", str(workdir),
                       "--holdout", str(args.holdout), "--seed", str(args.seed), "--out", str(part)]
            if args.limit:
                command += ["--limit", str(args.limit)]
            subprocess.run(command, check=True)
            results += json.loads(part.with_suffix(".json").read_text())["results"]
    text = markdown(results)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".json").write_text(json.dumps({"data": str(folder), "limit": args.limit, "seed": args.seed,
                                                              "results": results}, indent=2, default=str))
        args.out.with_suffix(".md").write_text(text)
        print(f"figures written to {args.out.with_suffix('.json')} and {args.out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
