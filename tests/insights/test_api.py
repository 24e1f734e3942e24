"""The insights API over HTTP: roles, tenant isolation, formats, 4xx on bad input, webhook delivery."""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from sqlalchemy import select

from tests.conftest import auth


def test_records_in_json_csv_and_parquet(prepared, api):
    token = prepared.tokens["supervisor"]
    page = api.get("/insights/records", params={"limit": 5, "reason": "damaged_item"}, headers=auth(token)).json()
    assert page["total"] == len(prepared.ids["spike"]) and len(page["items"]) == 5
    assert page["items"][0]["products"] == ["Alder Parka"] and page["items"][0]["topic_number"]
    csv_text = api.get("/insights/records", params={"format": "csv", "limit": 100000}, headers=auth(token)).text
    assert csv_text.splitlines()[0].startswith("conversation_id,external_id,started_at")
    assert len(csv_text.strip().splitlines()) - 1 >= len(prepared.ids["steady"])
    import pyarrow.parquet as pq

    raw = api.get("/insights/records", params={"format": "parquet", "outcome": "escalated"}, headers=auth(token)).content
    table = pq.read_table(io.BytesIO(raw))
    assert table.num_rows > 0 and set(table.column("outcome").to_pylist()) == {"escalated"}


def test_roles_and_tenants(prepared, api):
    assert api.get("/insights/topics").status_code == 401
    assert api.get("/insights/topics", headers=auth(prepared.tokens["agent"])).status_code == 403
    assert api.get("/insights/search", params={"q": "refund"}, headers=auth(prepared.tokens["agent"])).status_code == 200
    other = api.get("/insights/records", headers=auth(prepared.tokens["other"])).json()
    assert other["total"] == 0
    assert api.get("/insights/topics/1", headers=auth(prepared.tokens["other"])).status_code == 404


def test_topics_trends_alerts_search(prepared, api):
    h = auth(prepared.tokens["supervisor"])
    tree = api.get("/insights/topics", headers=h).json()
    first = tree["parents"][0]["topics"][0]
    assert first["terms"] and first["representative"] and first["volume"] > 0
    assert api.get(f"/insights/topics/{first['number']}", headers=h).json()["label"] == first["label"]
    weekly = api.get("/insights/trends", params={"dimension": "topic", "interval": "week"}, headers=h).json()
    assert weekly["periods"] and weekly["series"][0]["counts"]
    alerts = api.get("/insights/alerts", headers=h).json()
    assert alerts["total"] >= 1
    alert = alerts["items"][0]
    assert alert["title"] and alert["conversations"][0]["url"].startswith("/insights/conversations/")
    hits = api.get("/insights/search", params={"q": "reset code old phone number", "mode": "semantic"}, headers=h).json()
    assert hits["hits"][0]["url"] == f"/insights/conversations/{hits['hits'][0]['conversation_id']}"
    ack = api.post(f"/insights/alerts/{alert['id']}/acknowledge", headers=h).json()
    assert ack["status"] == "acknowledged"


def test_bad_input_answers_4xx(prepared, api):
    h = auth(prepared.tokens["supervisor"])
    assert api.get("/insights/records", params={"format": "xml"}, headers=h).status_code == 422
    assert api.get("/insights/records", params={"since": "last tuesday"}, headers=h).status_code == 422
    assert api.get("/insights/trends", params={"dimension": "colour"}, headers=h).status_code == 422
    assert api.get("/insights/search", params={"q": ""}, headers=h).status_code == 422
    assert api.get("/insights/search", params={"q": "x", "sentiment": "angry"}, headers=h).status_code == 422
    assert api.get("/insights/topics/99999", headers=h).status_code == 404
    assert api.post("/insights/alerts/99999/acknowledge", headers=h).status_code == 404


def test_alert_pushed_to_webhook(prepared):
    from deskmate.insights.alerts import push
    from deskmate.insights.models import InsightAlert

    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        settings = prepared.settings.model_copy(update={"alert_webhook_url": f"http://127.0.0.1:{server.server_port}/hook"})
        with prepared.session() as s:
            alert = s.scalars(select(InsightAlert).where(InsightAlert.tenant_id == prepared.tenant_id)).first()
            result = push(alert, settings=settings)
        assert result["webhook"] == "ok"
        assert received and received[0]["type"] == "insight_alert" and received[0]["title"] == alert.title
        assert received[0]["conversations"] and received[0]["phrases"] == alert.terms
        dead = prepared.settings.model_copy(update={"alert_webhook_url": "http://127.0.0.1:9/nothing"})
        with prepared.session() as s:
            alert = s.scalars(select(InsightAlert).where(InsightAlert.tenant_id == prepared.tenant_id)).first()
            assert push(alert, settings=dead)["webhook"].startswith("failed")
    finally:
        server.shutdown()


def test_alert_published_on_the_floor_channel(prepared):
    """The assist hub's tenant channel carries the alert to supervisors' floor sockets."""
    import asyncio

    from deskmate.assist.hub import LiveHub
    from deskmate.insights.alerts import push
    from deskmate.insights.models import InsightAlert

    async def scenario():
        hub = LiveHub()
        await hub.start()
        sub = hub.subscribe(tenant_id=prepared.tenant_id)
        with prepared.session() as s:
            alert = s.scalars(select(InsightAlert).where(InsightAlert.tenant_id == prepared.tenant_id)).first()
            await asyncio.to_thread(push, alert, settings=prepared.settings, hub=hub)
            title = alert.title
        payload = await asyncio.wait_for(sub.get(), timeout=5)
        await hub.stop()
        return payload, title

    payload, title = asyncio.run(scenario())
    assert payload["type"] == "insight_alert" and payload["text"] == title


def test_closing_a_conversation_builds_its_record(prepared, api):
    h = auth(prepared.tokens["supervisor"])
    body = {"external_id": "live-close-1", "reason": "promo_code",
            "messages": [{"role": "customer", "text": "my voucher code is rejected at checkout"},
                         {"role": "agent", "text": "Let me check that code for you."}]}
    created = api.post("/conversations", json=body, headers=h)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert api.get("/insights/records", params={"reason": "promo_code", "limit": 100000}, headers=h).json()["items"][-1]["conversation_id"] != cid
    closed = api.patch(f"/conversations/{cid}", json={"status": "closed", "outcome": "resolved"}, headers=h)
    assert closed.status_code == 200, closed.text
    items = api.get("/insights/records", params={"reason": "promo_code", "limit": 100000}, headers=h).json()["items"]
    row = next(r for r in items if r["conversation_id"] == cid)
    assert row["outcome"] == "resolved" and row["topic_number"] is not None
    assert "voucher" in row["opening_text"]
