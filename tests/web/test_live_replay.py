"""`deskmate demo --live`: held-out conversations replayed through the real HTTP API."""

from __future__ import annotations

import httpx

from deskmate.demo.live import LiveReplayer, load_live_records


def test_live_replay_fills_the_queue_through_the_api(live_server):
    settings = live_server["settings"]
    records = load_live_records(settings.data_dir / "demo" / "live.jsonl")[:2]
    assert records, "the demo holds out live conversations"
    admin = live_server["token"]("admin")
    headers = {"Authorization": f"Bearer {admin}"}
    before = httpx.get(f"{live_server['url']}/conversations?limit=1", headers=headers).json()["total"]

    replayer = LiveReplayer(live_server["url"], admin, records, pace=0.01, concurrent=2)
    replayer.run()

    page = httpx.get(f"{live_server['url']}/conversations?limit=5", headers=headers).json()
    assert page["total"] == before + 2
    replayed = [c for c in page["items"] if c["external_id"].startswith("live-")]
    assert len(replayed) == 2
    expected = sum(len(r["entries"]) for r in records)
    assert replayer.sent == expected
    assert sum(c["message_count"] for c in replayed) == expected
    assert all(c["status"] == "closed" for c in replayed)
    assert {c["outcome"] for c in replayed} <= {r["outcome"] for r in records}
