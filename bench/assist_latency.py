"""Live-assist latency under load: simulated conversations over WebSockets against a real `deskmate serve`.

    .venv/bin/python bench/assist_latency.py [--conversations 600] [--workdir DIR] [--rates 50,100,150,200,300]

Builds (or reuses) a temporary SQLite demo workspace with `deskmate demo --no-serve`, starts
`deskmate serve` on loopback as a subprocess, opens one WebSocket per simulated conversation and
plays the demo's held-out ("live") conversations into them, message by message, at a steady total
rate. Reports per message the server-side time (store + assist, from the update's own `timings`)
and the client's round trip, at 50 and 200 concurrent conversations and 100 messages/s, then raises
the rate with 200 conversations to find the highest rate sustained with p99 under 150 ms.
Exit code 0; figures on stdout (and `--json`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DESKMATE = str(ROOT / ".venv" / "bin" / "deskmate")
P99_LIMIT_MS = 150.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(workdir: Path) -> dict:
    return {**os.environ, "DESKMATE_DATA_DIR": str(workdir / "data"), "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "DESKMATE_TENANT": "default"}


def build_workspace(workdir: Path, conversations: int, seed: int) -> None:
    if (workdir / "data" / "demo" / "tokens.json").exists():
        print(f"reusing the demo workspace in {workdir}")
        return
    print(f"building a {conversations}-conversation demo workspace in {workdir} (seed {seed}) ...", flush=True)
    started = time.time()
    subprocess.run([DESKMATE, "demo", "--no-serve", "--conversations", str(conversations), "--seed", str(seed)],
                   env=_env(workdir), check=True, stdout=subprocess.DEVNULL)
    print(f"  built and prepared in {time.time() - started:.0f} s")


def start_server(workdir: Path, port: int, workers: int = 1, redis_url: str | None = None) -> subprocess.Popen:
    log = open(workdir / "serve.log", "w")
    env = _env(workdir) | ({"DESKMATE_REDIS_URL": redis_url} if redis_url else {})
    proc = subprocess.Popen([DESKMATE, "serve", "--port", str(port), "--workers", str(workers)], env=env,
                            stdout=log, stderr=log)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"deskmate serve exited; see {workdir / 'serve.log'}")
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit("deskmate serve did not answer /health within 120 s")


def load_scripts(workdir: Path) -> list[dict]:
    """The demo's held-out conversations (never imported): customer id and the messages to play."""
    scripts = []
    for line in (workdir / "data" / "demo" / "live.jsonl").read_text().splitlines():
        record = json.loads(line)
        messages = []
        for entry in record["entries"]:
            if entry.get("action"):
                messages.append({"role": entry.get("role", "agent"), "kind": "action", "action": entry["action"],
                                 "action_values": entry.get("values") or {}})
            elif entry.get("text", "").strip():
                messages.append({"role": entry["role"], "kind": "text", "text": entry["text"]})
        if messages:
            scripts.append({"customer": (record.get("customer") or {}).get("id"), "messages": messages})
    return scripts


class Simulation:
    """N open conversations, one outstanding message each, fed at a steady total rate."""

    def __init__(self, base: str, token: str, scripts: list[dict], known_customers: set[str], repeat_texts: bool = False):
        self.base, self.token = base, token
        self.repeat_texts = repeat_texts
        self.scripts, self.known = scripts, known_customers
        self.errors = 0

    async def _open(self, client: httpx.AsyncClient, script: dict) -> int:
        body = {"messages": []}
        if script["customer"] in self.known:
            body["customer_external_id"] = script["customer"]
        r = await client.post(f"{self.base}/conversations", json=body, headers={"Authorization": f"Bearer {self.token}"})
        r.raise_for_status()
        return r.json()["id"]

    async def probe(self, timeout: float = 900.0) -> None:
        """One message, waited for as long as the first model load takes."""
        async with httpx.AsyncClient(timeout=timeout) as client:
            cid = await self._open(client, self.scripts[0])
            r = await client.post(f"{self.base}/conversations/{cid}/messages", headers={"Authorization": f"Bearer {self.token}"},
                                  json={"role": "customer", "text": "hello, is anyone there?"})
            r.raise_for_status()

    async def run(self, conversations: int, rate: float, seconds: float) -> dict:
        from websockets.asyncio.client import connect

        self.errors = 0
        rng = random.Random(conversations * 1000 + int(rate))
        # Conversations are opened a few at a time, before the clock starts: opening is not what is measured.
        gate = asyncio.Semaphore(4)

        async def opened(client, script):
            async with gate:
                return await self._open(client, script)

        async with httpx.AsyncClient(timeout=120) as client:
            ids = await asyncio.gather(*[opened(client, self.scripts[i % len(self.scripts)]) for i in range(conversations)])
        ws_base = self.base.replace("http://", "ws://")
        sockets = []
        for cid in ids:
            ws = await connect(f"{ws_base}/ws/conversations/{cid}?token={self.token}", max_size=2**24)
            await ws.recv()  # the initial update
            sockets.append(ws)
        cursors = [0] * conversations
        scripts = [self.scripts[(i + rng.randrange(len(self.scripts))) % len(self.scripts)] for i in range(conversations)]
        busy = [False] * conversations
        server, assist, rtt, stages = [], [], [], {}

        async def send(i: int) -> None:
            message = dict(scripts[i]["messages"][cursors[i] % len(scripts[i]["messages"])])
            cursors[i] += 1
            if message.get("text") and not self.repeat_texts:
                # A fresh word per message: replaying the same scripts would otherwise be served from the
                # encoder's text cache after the first pass, which real traffic only partly is.
                message["text"] += " " + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6))
            started = time.perf_counter()
            await sockets[i].send(json.dumps({"type": "message", **message}))
            try:
                while True:
                    payload = json.loads(await asyncio.wait_for(sockets[i].recv(), 30))
                    if payload["type"] == "assist":
                        timings = payload["update"]["timings"]
                        server.append(timings.get("server", timings.get("total", 0.0)))
                        for stage, ms in timings.items():
                            stages.setdefault(stage, []).append(ms)
                        assist.append(timings.get("total", 0.0))
                        rtt.append((time.perf_counter() - started) * 1000)
                        break
                    if payload["type"] == "error":
                        self.errors += 1
                        break
            except asyncio.TimeoutError:
                self.errors += 1
            finally:
                busy[i] = False

        tasks, skipped = [], 0
        interval, start = 1.0 / rate, time.perf_counter()
        n, order = 0, list(range(conversations))
        while time.perf_counter() - start < seconds:
            target = start + n * interval
            delay = target - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            idle = next((order[(n + k) % conversations] for k in range(conversations) if not busy[order[(n + k) % conversations]]), None)
            if idle is None:
                skipped += 1  # every conversation is waiting for its update: the server is behind
            else:
                busy[idle] = True  # before the task runs, or the next tick could pick this conversation again
                tasks.append(asyncio.create_task(send(idle)))
            n += 1
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
        for ws in sockets:
            await ws.close()
        return {"conversations": conversations, "target_rate": rate, "achieved_rate": round(len(server) / elapsed, 1),
                "messages": len(server), "behind": skipped, "errors": self.errors,
                "server_p50": _pct(server, 50), "server_p99": _pct(server, 99),
                "assist_p50": _pct(assist, 50), "assist_p99": _pct(assist, 99),
                "rtt_p50": _pct(rtt, 50), "rtt_p99": _pct(rtt, 99),
                "stage_p50": {k: _pct(v, 50) for k, v in stages.items()}}


def dense_index_figures(n: int = 100_000, queries: int = 200) -> dict:
    """The passage index at `n` vectors: IVF (what assist uses) against an exact scan.

    Real MiniLM embeddings of BANKING77's 10,003 training queries (DESKMATE_DATA), each repeated with
    small noise up to `n` (paraphrase clusters, as a large knowledge base has); queries are held-out
    BANKING77 test sentences."""
    import csv

    from threadpoolctl import threadpool_limits

    from deskmate.assist.vector_index import IVFIndex
    from deskmate.config import Settings
    from deskmate.nlp.encoder import get_encoder

    data = Path(os.environ.get("DESKMATE_DATA", ROOT.parent / "shared" / "data"))
    train = [r["text"] for r in csv.DictReader(open(data / "banking77" / "train.csv"))]
    test = [r["text"] for r in csv.DictReader(open(data / "banking77" / "test.csv"))][:queries]
    encoder = get_encoder(Settings(data_dir=Path(tempfile.gettempdir()) / "deskmate-bench-encoder"))
    base, q = encoder.encode(train), encoder.encode(test)
    rng = np.random.default_rng(0)
    extra = base[rng.integers(0, len(base), n - len(base))] + rng.normal(0, 0.03, (n - len(base), base.shape[1])).astype(np.float32)
    vectors = np.vstack([base, extra / np.linalg.norm(extra, axis=1, keepdims=True)]).astype(np.float32)
    with threadpool_limits(1, user_api="blas"):
        started = time.perf_counter()
        index = IVFIndex().fit(vectors, np.arange(n))
        build = time.perf_counter() - started
        exact = [set(np.argpartition(-(vectors @ v), 10)[:10].tolist()) for v in q]
        t0 = time.perf_counter()
        for v in q:
            np.argpartition(-(vectors @ v), 10)[:10]
        exact_ms = (time.perf_counter() - t0) / len(q) * 1000
        out = {"vectors": n, "cells": len(index.centroids_), "build_s": round(build, 1), "exact_ms": round(exact_ms, 3)}
        for probe in (8, 12, 24):
            t0 = time.perf_counter()
            found = [set(index.search(v, 10, n_probe=probe)[0].tolist()) for v in q]
            ms = (time.perf_counter() - t0) / len(q) * 1000
            recall = float(np.mean([len(f & e) / 10 for f, e in zip(found, exact)]))
            out[f"probe{probe}"] = {"ms": round(ms, 3), "recall@10": round(recall, 3)}
    return out


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None


def _print(row: dict) -> None:
    print(f"  {row['conversations']:>4} conversations  target {row['target_rate']:>5.0f}/s  achieved {row['achieved_rate']:>6.1f}/s"
          f"  server p50 {row['server_p50']:>6} ms  p99 {row['server_p99']:>7} ms  (assist p50 {row['assist_p50']} / "
          f"p99 {row['assist_p99']};  round trip p50 {row['rtt_p50']} / p99 {row['rtt_p99']})  behind {row['behind']}",
          flush=True)
    print("        stage p50 (ms): " + ", ".join(f"{k} {v}" for k, v in row["stage_p50"].items()), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=600, help="size of the demo workspace to build")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, help="reuse (or build) the workspace here instead of a temp dir")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each measured phase")
    parser.add_argument("--rates", default="50,100,150,200,300,400", help="rates tried with 200 conversations")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--workers", type=int, default=1,
                        help="server processes; more than one needs Redis for the live hub (--redis)")
    parser.add_argument("--redis", default=None, help="Redis URL for the live hub, e.g. redis://127.0.0.1:6379/0")
    parser.add_argument("--skip-index", action="store_true", help="skip the 100,000-vector index measurement")
    parser.add_argument("--repeat-texts", action="store_true",
                        help="send the scripts' texts unchanged (lets the encoder cache answer repeats)")
    args = parser.parse_args()

    results: dict = {}
    if not args.skip_index:
        results["dense_index"] = dense_index_figures()
        d = results["dense_index"]
        print(f"dense index, {d['vectors']:,} passages ({d['cells']} cells, built in {d['build_s']} s): exact scan "
              f"{d['exact_ms']} ms/query; IVF " + ", ".join(
                  f"probe {p[5:]}: {v['ms']} ms, recall@10 {v['recall@10']}" for p, v in d.items() if p.startswith("probe")),
              flush=True)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="deskmate-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    build_workspace(workdir, args.conversations, args.seed)
    tokens = json.loads((workdir / "data" / "demo" / "tokens.json").read_text())["users"]
    token = next(u["token"] for u in tokens if u["role"] == "agent")
    port = _free_port()
    if args.workers > 1 and not args.redis:
        parser.error("--workers above 1 needs --redis: sockets and messages may land on different processes")
    server = start_server(workdir, port, args.workers, args.redis)
    base = f"http://127.0.0.1:{port}"
    try:
        customers = httpx.get(f"{base}/customers?limit=500", headers={"Authorization": f"Bearer {token}"}).json()
        known = {c["external_id"] for c in customers.get("items", [])}
        sim = Simulation(base, token, load_scripts(workdir), known, repeat_texts=args.repeat_texts)
        print("waiting for the server to load its models ...", flush=True)
        for _ in range(3 * args.workers):  # requests spread over the workers: each loads its own models
            asyncio.run(sim.probe())
        asyncio.run(sim.run(10, 20, 5))  # warm-up: caches filled, threads started; not reported
        print(f"deskmate serve on {base} ({args.workers} worker(s), hub {'redis' if args.redis else 'in-process'}), "
              f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
        results.update({"workers": args.workers, "hub": "redis" if args.redis else "memory"})
        results.update({"fixed": [], "ramp": [], "load_average": os.getloadavg()[0]})
        print("at 100 messages/s:")
        for conversations in (50, 200):
            row = asyncio.run(sim.run(conversations, 100, args.seconds))
            results["fixed"].append(row)
            _print(row)
        print("raising the rate with 200 conversations:")
        best = None
        for rate in [float(r) for r in args.rates.split(",")]:
            row = asyncio.run(sim.run(200, rate, max(10.0, args.seconds * 0.75)))
            results["ramp"].append(row)
            _print(row)
            sustained = row["server_p99"] is not None and row["server_p99"] < P99_LIMIT_MS and \
                row["achieved_rate"] >= 0.9 * rate
            if not sustained:
                break
            best = row["achieved_rate"]
        results["highest_sustained_rate"] = best
        print(f"highest sustained rate with server p99 < {P99_LIMIT_MS:.0f} ms: {best} messages/s")
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
