"""One arrival path for HTTP and the WebSocket, and sequence numbers that hold under concurrent writers.

Real servers and databases: uvicorn on a free port over a SQLite file (and the real PostgreSQL
when DESKMATE_TEST_POSTGRES_URL is set), many client threads appending to one conversation.
"""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import select

from deskmate.conversations.events import hookimpl
from tests.conftest import auth

THREADS, PER_THREAD = 12, 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(app):
    """The app served by uvicorn in a thread: real sockets, real worker threads."""
    import uvicorn

    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started and thread.is_alive():
        time.sleep(0.02)
    assert srv.started, "the test server did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join()


def test_concurrent_appends_to_one_conversation_get_every_seq_once(server, workspace):
    headers = auth(workspace.tokens["agent"])
    conv = httpx.post(f"{server}/conversations", json={"reason": "order_status"}, headers=headers).json()
    url = f"{server}/conversations/{conv['id']}/messages?assist=false"

    def writer(t: int) -> list[tuple[int, int | None, str]]:
        out = []
        with httpx.Client(headers=headers, timeout=120) as client:
            for m in range(PER_THREAD):
                role = "customer" if (t + m) % 2 else "agent"
                r = client.post(url, json={"role": role, "text": f"writer {chr(65 + t)} says hello again"})
                out.append((r.status_code, r.json()["message"]["seq"] if r.status_code == 201 else None, r.text))
        return out

    with ThreadPoolExecutor(THREADS) as pool:
        results = [row for rows in pool.map(writer, range(THREADS)) for row in rows]
    errors = [text for status, _, text in results if status != 201]
    assert errors == [], f"{len(errors)} of {len(results)} appends failed, first: {errors[:1]}"
    n = THREADS * PER_THREAD
    assert sorted(seq for _, seq, _ in results) == list(range(1, n + 1))
    detail = httpx.get(f"{server}/conversations/{conv['id']}", headers=headers).json()
    assert [m["seq"] for m in detail["messages"]] == list(range(1, n + 1)) and detail["message_count"] == n


class Recorder:
    """A listener of message arrival, registered like any plugin; its payload goes out live."""

    def __init__(self):
        self.seen = []

    @hookimpl
    def message_appended(self, conversation, message, arrival):
        self.seen.append((conversation.id, message.seq, message.role, arrival.assist))
        return {"type": "recorded", "seq": message.seq}


def _receive(ws, kind: str) -> dict:
    while True:
        payload = ws.receive_json()
        if payload.get("type") == kind:
            return payload


def test_http_and_websocket_messages_take_the_same_arrival(app, client, workspace):
    recorder = Recorder()
    app.state.events.register(recorder, name="recorder")
    token = workspace.tokens["agent"]
    conv = client.post("/conversations", json={"reason": "order_status"}, headers=auth(token)).json()
    with client.websocket_connect(f"/ws/conversations/{conv['id']}?token={token}") as ws:
        _receive(ws, "assist")
        r = client.post(f"/conversations/{conv['id']}/messages?assist=false", headers=auth(token),
                        json={"role": "customer", "text": "Where is my parcel?"})
        assert r.status_code == 201 and r.json()["assist"] is None
        assert _receive(ws, "message")["message"]["seq"] == 1
        assert _receive(ws, "recorded") == {"type": "recorded", "seq": 1}
        ws.send_json({"type": "message", "role": "agent", "text": "Let me check that for you."})
        assert _receive(ws, "message")["message"]["seq"] == 2
        assert _receive(ws, "assist")["update"]["message_seq"] == 2  # live assist is a listener like the recorder
        assert _receive(ws, "recorded") == {"type": "recorded", "seq": 2}
    assert recorder.seen == [(conv["id"], 1, "customer", False), (conv["id"], 2, "agent", True)]


class BrokenOnClose:
    @hookimpl
    def conversation_closed(self, session, conversation):
        from deskmate.conversations.models import ConversationLabel

        conversation.labels.append(ConversationLabel(tenant_id=conversation.tenant_id, label="half-done"))
        session.flush()
        raise RuntimeError("this listener is broken")


def test_a_failing_close_listener_is_rolled_back_alone(settings, store, workspace):
    from deskmate.accounts.models import Tenant
    from deskmate.conversations import service
    from deskmate.conversations.events import make_plugin_manager
    from deskmate.conversations.models import Conversation, ConversationCreate, ConversationUpdate, MessageCreate
    from deskmate.outcomes.models import ConversationScore
    from deskmate.plugins import register_default_listeners

    events = make_plugin_manager()
    events.register(BrokenOnClose(), name="broken")  # runs first: listeners run in registration order
    register_default_listeners(events, settings)
    with store.session() as s:
        conv = service.create_conversation(s, tenant=s.get(Tenant, workspace.tenant_id), data=ConversationCreate(
            reason="order_status", messages=[MessageCreate(role="customer", text="Where is my parcel?"),
                                             MessageCreate(role="agent", text="It arrives tomorrow.")]))
        service.update_conversation(s, conversation=conv, data=ConversationUpdate(status="closed", outcome="resolved"),
                                    events=events)
        conv_id = conv.id
    with store.session() as s:
        closed = s.get(Conversation, conv_id)
        assert closed.status == "closed" and [lab.label for lab in closed.labels] == []
        scored = s.scalar(select(ConversationScore).where(ConversationScore.conversation_id == conv_id))
        assert scored is not None  # the listener after the broken one still ran
