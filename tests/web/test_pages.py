"""Page plumbing without a browser: sign-in cookie, redirects, roles, offline assets."""

from deskmate.accounts.deps import SESSION_COOKIE


def _sign_in(client, token, next_path="/"):
    return client.post("/login", data={"token": token, "next": next_path}, follow_redirects=False)


def test_signed_out_visitor_is_redirected(client, workspace):
    r = client.get("/knowledge", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=%2Fknowledge")


def test_sign_in_sets_httponly_samesite_cookie(client, workspace):
    r = _sign_in(client, workspace.tokens["agent"], "/knowledge")
    assert r.status_code == 303 and r.headers["location"] == "/knowledge"
    cookie = r.headers["set-cookie"].lower()
    assert SESSION_COOKIE in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert client.get("/knowledge").status_code == 200


def test_bad_token_and_open_redirect_refused(client, workspace):
    r = _sign_in(client, "dm_wrong")
    assert r.status_code == 401 and "not recognised" in r.text
    r = _sign_in(client, workspace.tokens["agent"], "https://evil.example/")
    assert r.headers["location"] == "/"


def test_agent_cannot_edit_knowledge_pages(client, workspace):
    _sign_in(client, workspace.tokens["agent"])
    assert client.get("/knowledge/new").status_code == 403


def test_supervisor_writes_and_edits_an_article(client, workspace):
    _sign_in(client, workspace.tokens["supervisor"])
    r = client.post("/knowledge/new", data={"title": "Returns", "body": "Within 30 days.", "tags": "returns", "status": "draft"},
                    follow_redirects=False)
    assert r.status_code == 303
    path = r.headers["location"]
    r = client.post(path + "/edit", data={"title": "Returns", "body": "Within 60 days.", "tags": "returns", "status": "published"},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get(path).text
    assert "Within 60 days." in page and "published" in page
    bad = client.post(path + "/edit", data={"title": "", "body": "x", "tags": "", "status": "draft"})
    assert bad.status_code == 422 and "title" in bad.text
    assert client.get("/knowledge?q=60 days").text.count("Returns") >= 1


def test_assets_are_served_locally(client):
    assert client.get("/static/deskmate.css").status_code == 200
    js = client.get("/static/vendor/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000
