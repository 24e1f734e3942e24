"""Conversations API: create, append, list with filters, paging, tenant isolation, validation."""

from datetime import datetime, timedelta, timezone

from tests.conftest import auth


def _create(client, token, **body):
    body.setdefault("messages", [{"role": "customer", "text": "Hi, my parcel never arrived"}])
    r = client.post("/conversations", json=body, headers=auth(token))
    assert r.status_code == 201, r.text
    return r.json()


def test_create_append_and_read(client, workspace):
    tok = workspace.tokens["agent"]
    conv = _create(client, tok, reason="shipping_missing", labels=["vip", "shipping"])
    assert conv["message_count"] == 1 and sorted(conv["labels"]) == ["shipping", "vip"]
    r = client.post(f"/conversations/{conv['id']}/messages?assist=false",
                    json={"role": "agent", "kind": "action", "action": "pull-up-account", "action_values": {"customer_name": "x"}},
                    headers=auth(tok))
    assert r.status_code == 201, r.text
    detail = client.get(f"/conversations/{conv['id']}", headers=auth(tok)).json()
    assert [m["seq"] for m in detail["messages"]] == [1, 2]
    assert detail["messages"][1]["kind"] == "action" and detail["messages"][1]["action"] == "pull-up-account"


def test_bad_bodies_are_422_with_field(client, workspace):
    tok = workspace.tokens["agent"]
    r = client.post("/conversations", json={"messages": [{"role": "robot", "text": "x"}]}, headers=auth(tok))
    assert r.status_code == 422 and "role" in r.text
    conv = _create(client, tok)
    for body in ({"role": "customer", "text": "   "}, {"role": "agent", "kind": "action"}, {"text": "no role"}):
        r = client.post(f"/conversations/{conv['id']}/messages", json=body, headers=auth(tok))
        assert r.status_code == 422, body
    r = client.post("/conversations", json={"customer_id": 999999}, headers=auth(tok))
    assert r.status_code == 422 and "customer_id" in r.json()["detail"]
    assert client.get("/conversations?limit=0", headers=auth(tok)).status_code == 422
    assert client.get("/conversations?status=weird", headers=auth(tok)).status_code == 422


def test_other_tenant_gets_404(client, workspace):
    conv = _create(client, workspace.tokens["agent"])
    other = auth(workspace.tokens["other"])
    assert client.get(f"/conversations/{conv['id']}", headers=other).status_code == 404
    assert client.patch(f"/conversations/{conv['id']}", json={"status": "closed"}, headers=other).status_code == 404
    assert client.post(f"/conversations/{conv['id']}/messages", json={"role": "customer", "text": "x"}, headers=other).status_code == 404
    assert client.get("/conversations", headers=other).json()["total"] == 0


def test_list_filters_and_paging(client, workspace):
    tok = workspace.tokens["agent"]
    now = datetime.now(timezone.utc)
    for i in range(5):
        _create(client, tok, started_at=(now - timedelta(days=i)).isoformat(), labels=["even"] if i % 2 == 0 else [],
                reason="refund" if i < 2 else "billing")
    page = client.get("/conversations?limit=2&offset=0", headers=auth(tok)).json()
    assert page["total"] == 5 and len(page["items"]) == 2
    assert client.get("/conversations?label=even", headers=auth(tok)).json()["total"] == 3
    assert client.get("/conversations?reason=refund", headers=auth(tok)).json()["total"] == 2
    since = (now - timedelta(days=1, hours=12)).isoformat()
    assert client.get("/conversations", params={"since": since}, headers=auth(tok)).json()["total"] == 2


def test_close_and_closed_conversation_refuses_messages(client, workspace):
    tok = workspace.tokens["agent"]
    conv = _create(client, tok)
    r = client.patch(f"/conversations/{conv['id']}", json={"status": "closed", "outcome": "resolved"}, headers=auth(tok))
    assert r.status_code == 200 and r.json()["ended_at"] and r.json()["outcome"] == "resolved"
    r = client.post(f"/conversations/{conv['id']}/messages", json={"role": "customer", "text": "hello?"}, headers=auth(tok))
    assert r.status_code == 422 and "closed" in r.json()["detail"]
    assert client.patch(f"/conversations/{conv['id']}", json={"outcome": "great"}, headers=auth(tok)).status_code == 422
