"""`deskmate demo --live`: replay held-out demo conversations into the desk at a steady pace.

The replayer talks to the server over its public HTTP API with a demo admin token, exactly as a
webhook integration would, so every message takes the real path (redaction, storage, assist,
live fan-out to the desk and the floor) whether it runs in the server's process or beside it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import httpx

log = logging.getLogger("deskmate.demo.live")


def load_live_records(path: Path) -> list[dict]:
    if not path.exists():
        raise FileNotFoundError(2, "no live conversations; build the demo first", str(path))
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _entry_body(entry: dict) -> dict:
    if entry.get("action"):
        return {"role": entry.get("role", "agent"), "kind": "action", "action": entry["action"],
                "action_values": entry.get("values") or {}}
    return {"role": entry.get("role", "customer"), "text": entry.get("text", "")}


class LiveReplayer:
    """Replays `records` a few at a time; each conversation advances one entry every `pace` seconds."""

    def __init__(self, base_url: str, token: str, records: list[dict], *, pace: float = 2.0, concurrent: int = 3,
                 wait_for_server: float = 60.0):
        # Generous read timeout: the server's first message loads (or, once, exports) the encoder.
        self.client = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"},
                                   timeout=httpx.Timeout(10, read=180))
        self.records, self.pace, self.concurrent = records, pace, max(1, concurrent)
        self.wait_for_server = wait_for_server
        self.stop = threading.Event()
        self.sent = 0
        self._agents: dict[str, int] = {}

    def _await_server(self) -> None:
        deadline = time.monotonic() + self.wait_for_server
        while time.monotonic() < deadline and not self.stop.is_set():
            try:
                if self.client.get("/health").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError("the server did not answer /health")

    def _agent_ids(self) -> dict[str, int]:
        users = self.client.get("/users").json()
        return {u["external_id"]: u["id"] for u in users if u.get("external_id")}

    def _start(self, record: dict) -> int:
        customer = (record.get("customer") or {}).get("id")
        body = {"external_id": f"live-{record['id']}-{int(time.time())}", "channel": record.get("channel", "chat"),
                "customer_external_id": customer, "agent_id": self._agents.get((record.get("agent") or {}).get("id")),
                "subject": record.get("subject")}
        r = self.client.post("/conversations", json=body)
        if r.status_code == 422 and customer:  # a customer first seen in the held-out days
            body.pop("customer_external_id")
            r = self.client.post("/conversations", json=body)
        r.raise_for_status()
        return r.json()["id"]

    def _play(self, record: dict) -> None:
        conversation_id = self._start(record)
        for entry in record.get("entries", []):
            if self.stop.wait(self.pace):
                return
            r = self.client.post(f"/conversations/{conversation_id}/messages", json=_entry_body(entry))
            if r.status_code >= 400:
                log.warning("live replay: %s on conversation %s: %s", r.status_code, conversation_id, r.text[:200])
                return
            self.sent += 1
        if not self.stop.wait(self.pace):
            self.client.patch(f"/conversations/{conversation_id}",
                              json={"status": "closed", "outcome": record.get("outcome"), "reason": record.get("reason")})

    def run(self) -> None:
        self._await_server()
        self._agents = self._agent_ids()
        queue = list(self.records)
        workers: list[threading.Thread] = []
        while (queue or workers) and not self.stop.is_set():
            workers = [w for w in workers if w.is_alive()]
            while queue and len(workers) < self.concurrent:
                record = queue.pop(0)
                worker = threading.Thread(target=self._safe_play, args=(record,), daemon=True)
                worker.start()
                workers.append(worker)
            self.stop.wait(0.2)
        self.client.close()

    def _safe_play(self, record: dict) -> None:
        try:
            self._play(record)
        except Exception:  # noqa: BLE001 - one broken replay must not end the demo
            log.exception("live replay of %s failed", record.get("id"))

    def start_in_background(self) -> threading.Thread:
        thread = threading.Thread(target=self._safe_run, name="deskmate-live", daemon=True)
        thread.start()
        return thread

    def _safe_run(self) -> None:
        try:
            self.run()
        except Exception:  # noqa: BLE001
            log.exception("live replay stopped")
