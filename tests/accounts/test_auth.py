"""Auth and tenant isolation across the API: 401 without a token, 403 for a weak role, 404 across tenants."""

from deskmate.accounts.service import authenticate, hash_token
from deskmate.accounts.models import ApiToken
from tests.conftest import auth


def test_health_needs_no_token(client):
    assert client.get("/health").json()["status"] == "ok"


def test_no_token_is_401(client, workspace):
    for path in ("/me", "/customers", "/conversations", "/articles", "/procedures"):
        r = client.get(path)
        assert r.status_code == 401, path
        assert r.json()["detail"]


def test_bad_token_is_401(client, workspace):
    assert client.get("/me", headers=auth("dm_nope")).status_code == 401
    assert client.get("/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_me_and_roles(client, workspace):
    me = client.get("/me", headers=auth(workspace.tokens["agent"])).json()
    assert me["role"] == "agent"
    assert client.get("/users", headers=auth(workspace.tokens["agent"])).status_code == 403
    assert client.get("/users", headers=auth(workspace.tokens["supervisor"])).status_code == 200
    r = client.post("/users", json={"name": "New"}, headers=auth(workspace.tokens["supervisor"]))
    assert r.status_code == 403 and "admin" in r.json()["detail"]


def test_admin_creates_user_whose_token_works(client, workspace):
    r = client.post("/users", json={"name": "Nia", "role": "supervisor"}, headers=auth(workspace.tokens["admin"]))
    assert r.status_code == 201
    token = r.json()["token"]
    assert client.get("/me", headers=auth(token)).json()["name"] == "Nia"
    bad = client.post("/users", json={"name": "X", "role": "king"}, headers=auth(workspace.tokens["admin"]))
    assert bad.status_code == 422


def test_tokens_are_stored_hashed(store, workspace):
    with store.session() as s:
        rows = s.query(ApiToken).all()
        stored = {r.token_hash for r in rows}
        for token in workspace.tokens.values():
            assert token not in stored
            assert hash_token(token) in stored
            assert authenticate(s, token) is not None


def test_last_use_is_recorded_without_a_write_per_request(store, workspace):
    from datetime import timedelta

    from deskmate.accounts.service import TOKEN_TOUCH_INTERVAL

    token = workspace.tokens["agent"]
    with store.session() as s:
        assert authenticate(s, token) is not None
        row = s.query(ApiToken).filter_by(token_hash=hash_token(token)).one()
        first = row.last_used_at
        assert first is not None
    with store.session() as s:
        authenticate(s, token)
        assert not s.dirty, "a second use within the interval writes nothing"
        row = s.query(ApiToken).filter_by(token_hash=hash_token(token)).one()
        row.last_used_at = first - TOKEN_TOUCH_INTERVAL - timedelta(seconds=1)
    with store.session() as s:
        authenticate(s, token)
        row = s.query(ApiToken).filter_by(token_hash=hash_token(token)).one()
        assert row.last_used_at > first - timedelta(seconds=1)
