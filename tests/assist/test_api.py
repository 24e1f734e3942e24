"""Live assist over HTTP and WebSockets: updates, feedback, tenant isolation, the supervisor channel."""

import pytest
from starlette.websockets import WebSocketDisconnect

from tests.assist.conftest import a_customer, open_conversation
from tests.conftest import auth


def _receive(ws, kind: str, limit: int = 10) -> dict:
    for _ in range(limit):
        payload = ws.receive_json()
        if payload["type"] == kind:
            return payload
    raise AssertionError(f"no {kind!r} payload in {limit} messages")


def test_post_message_returns_the_message_and_its_update(demo, demo_client):
    token = demo.tokens["agent"]
    external_id, name, _ = a_customer(demo)
    conv = open_conversation(demo_client, token, customer_external_id=external_id)
    r = demo_client.post(f"/conversations/{conv['id']}/messages",
                         json={"role": "customer", "text": "Hi, where is my order? It should have arrived by now."},
                         headers=auth(token))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["message"]["seq"] == 1 and body["message"]["role"] == "customer"
    update = body["assist"]
    assert update["conversation_id"] == conv["id"] and update["message_seq"] == 1
    assert update["context"]["name"] == name and update["knowledge"] and update["next_action"]["id"].startswith("nba:")
    assert update["timings"]["total"] > 0
    skipped = demo_client.post(f"/conversations/{conv['id']}/messages?assist=false",
                               json={"role": "agent", "text": "Let me check."}, headers=auth(token)).json()
    assert skipped["assist"] is None and skipped["message"]["seq"] == 2
    current = demo_client.get(f"/conversations/{conv['id']}/assist", headers=auth(token))
    assert current.status_code == 200 and current.json()["message_seq"] == 2  # caught up with the skipped message


def test_assist_of_another_tenants_conversation_is_404(demo, demo_client):
    conv = open_conversation(demo_client, demo.tokens["agent"], messages=[{"role": "customer", "text": "hello"}])
    other = auth(demo.tokens["other"])
    assert demo_client.get(f"/conversations/{conv['id']}/assist", headers=other).status_code == 404
    assert demo_client.post("/assist/feedback", headers=other, json={
        "conversation_id": conv["id"], "suggestion_id": f"kb:1:{conv['id']}:1", "event": "shown"}).status_code == 404
    assert demo_client.get(f"/conversations/{conv['id']}/assist").status_code == 401


def test_websocket_message_in_update_out_and_feedback(demo, demo_client):
    token = demo.tokens["agent"]
    external_id, _, _ = a_customer(demo)
    conv = open_conversation(demo_client, token, customer_external_id=external_id)
    with demo_client.websocket_connect(f"/ws/conversations/{conv['id']}?token={token}") as ws:
        hello = _receive(ws, "assist")
        assert hello["update"]["conversation_id"] == conv["id"] and hello["update"]["message_seq"] == 0
        ws.send_json({"type": "message", "role": "customer", "text": "I need to return a jacket that doesn't fit"})
        stored = _receive(ws, "message")
        update = _receive(ws, "assist")["update"]
        assert stored["message"]["seq"] == 1 and update["message_seq"] == 1
        suggestion = (update["replies"] or update["knowledge"])[0]["id"]
        ws.send_json({"type": "event", "suggestion_id": suggestion, "event": "edited", "final_text": "Sure, let me help."})
        ack = _receive(ws, "ack")
        assert ack["suggestion_id"] == suggestion and ack["event"] == "edited"
        ws.send_json({"type": "event", "suggestion_id": suggestion, "event": "rated"})  # a rating needs its value
        assert "rating" in _receive(ws, "error")["detail"]
        ws.send_json({"type": "message", "role": "robot", "text": "x"})
        assert "role" in _receive(ws, "error")["detail"]
    events = demo_client.get(f"/assist/feedback?conversation_id={conv['id']}", headers=auth(token)).json()
    assert [(e["suggestion_id"], e["event"], e["final_text"]) for e in events] == [(suggestion, "edited", "Sure, let me help.")]
    assert events[0]["suggestion_type"] == suggestion.split(":")[0] and events[0]["user_id"] is not None


def test_updates_fan_out_to_every_socket_and_the_floor(demo, demo_client):
    token, supervisor = demo.tokens["agent"], demo.tokens["supervisor"]
    conv = open_conversation(demo_client, token)
    with demo_client.websocket_connect(f"/ws/conversations/{conv['id']}",
                                       headers={"Authorization": f"Bearer {token}"}) as desk, \
            demo_client.websocket_connect(f"/ws/conversations/{conv['id']}?token={supervisor}") as watcher, \
            demo_client.websocket_connect(f"/ws/floor?token={supervisor}") as floor:
        _receive(desk, "assist")
        _receive(watcher, "assist")
        r = demo_client.post(f"/conversations/{conv['id']}/messages", headers=auth(token),
                             json={"role": "customer", "text": "This is ridiculous, my refund never came"})
        assert r.status_code == 201
        for ws in (desk, watcher, floor):
            assert _receive(ws, "assist")["update"]["message_seq"] == 1


def test_websocket_refuses_missing_token_other_tenant_and_non_supervisors(demo, demo_client):
    conv = open_conversation(demo_client, demo.tokens["agent"])
    for url, code in [(f"/ws/conversations/{conv['id']}", 4401),
                      (f"/ws/conversations/{conv['id']}?token=dm_not-a-token", 4401),
                      (f"/ws/conversations/{conv['id']}?token={demo.tokens['other']}", 4404),
                      (f"/ws/conversations/999999?token={demo.tokens['agent']}", 4404),
                      (f"/ws/floor?token={demo.tokens['agent']}", 4403)]:
        with pytest.raises(WebSocketDisconnect) as refused:
            with demo_client.websocket_connect(url) as ws:
                ws.receive_json()
        assert refused.value.code == code, url


def test_feedback_validation(demo, demo_client):
    token = demo.tokens["agent"]
    conv = open_conversation(demo_client, token)
    ok = demo_client.post("/assist/feedback", headers=auth(token), json={
        "conversation_id": conv["id"], "suggestion_id": f"nba:verify-identity:{conv['id']}:3", "event": "rated", "rating": 1})
    assert ok.status_code == 201 and ok.json()["suggestion_type"] == "nba"
    for body in ({"suggestion_id": "banana:1", "event": "shown"}, {"suggestion_id": "kb:1:1:1", "event": "clicked"},
                 {"suggestion_id": "reply:1:1:1", "event": "edited"}):
        r = demo_client.post("/assist/feedback", headers=auth(token), json={"conversation_id": conv["id"], **body})
        assert r.status_code == 422, body


def test_session_cookie_opens_a_socket(demo, demo_client):
    conv = open_conversation(demo_client, demo.tokens["agent"])
    with demo_client.websocket_connect(f"/ws/conversations/{conv['id']}",
                                       headers={"Cookie": f"deskmate_session={demo.tokens['agent']}"}) as ws:
        assert _receive(ws, "assist")["update"]["conversation_id"] == conv["id"]


def test_two_workers_share_updates_through_redis(demo):
    """A message posted to one server process reaches a socket held by another, through Redis pub/sub."""
    from fastapi.testclient import TestClient

    from deskmate.app import create_app
    from tests.assist.test_hub import REDIS_URL, _redis_up

    if not _redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings = demo.settings.model_copy(update={"redis_url": REDIS_URL})
    token = demo.tokens["agent"]
    with TestClient(create_app(settings)) as worker_a, TestClient(create_app(settings)) as worker_b:
        assert worker_a.app.state.assist_hub.backend == "redis"
        conv = open_conversation(worker_a, token)
        with worker_b.websocket_connect(f"/ws/conversations/{conv['id']}?token={token}") as ws, \
                worker_b.websocket_connect(f"/ws/floor?token={demo.tokens['supervisor']}") as floor:
            _receive(ws, "assist")
            r = worker_a.post(f"/conversations/{conv['id']}/messages", headers=auth(token),
                              json={"role": "customer", "text": "Can I change the address on my order?"})
            assert r.status_code == 201
            assert _receive(ws, "message")["message"]["seq"] == 1
            assert _receive(ws, "assist")["update"]["message_seq"] == 1
            assert _receive(floor, "assist")["update"]["conversation_id"] == conv["id"]
