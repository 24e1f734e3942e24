"""Articles: create and edit with version history; roles; tenant isolation."""

from tests.conftest import auth


def test_article_lifecycle_with_versions(client, workspace):
    sup = auth(workspace.tokens["supervisor"])
    r = client.post("/articles", json={"title": "Refunds", "body": "How refunds work.", "tags": ["refund"], "status": "draft"}, headers=sup)
    assert r.status_code == 201, r.text
    art = r.json()
    assert art["version"] == 1 and art["status"] == "draft"
    r = client.patch(f"/articles/{art['id']}", json={"body": "How refunds work, step by step.", "status": "published"}, headers=sup)
    assert r.json()["version"] == 2
    same = client.patch(f"/articles/{art['id']}", json={"body": "How refunds work, step by step."}, headers=sup)
    assert same.json()["version"] == 2  # no change, no new version
    versions = client.get(f"/articles/{art['id']}/versions", headers=sup).json()
    assert [v["version"] for v in versions] == [1, 2] and versions[0]["body"] == "How refunds work."
    assert client.get("/articles?status=published", headers=sup).json()["total"] == 1
    assert client.get("/articles?tag=refund", headers=sup).json()["total"] == 1
    assert client.get("/articles?q=STEP", headers=sup).json()["total"] == 1


def test_agents_read_but_cannot_edit(client, workspace):
    sup, agent = auth(workspace.tokens["supervisor"]), auth(workspace.tokens["agent"])
    art = client.post("/articles", json={"title": "T", "body": "B"}, headers=sup).json()
    assert client.get(f"/articles/{art['id']}", headers=agent).status_code == 200
    assert client.patch(f"/articles/{art['id']}", json={"title": "X"}, headers=agent).status_code == 403
    assert client.post("/articles", json={"title": "T", "body": "B"}, headers=agent).status_code == 403


def test_validation_and_isolation(client, workspace):
    sup = auth(workspace.tokens["supervisor"])
    assert client.post("/articles", json={"title": "", "body": "B"}, headers=sup).status_code == 422
    assert client.post("/articles", json={"title": "T"}, headers=sup).status_code == 422
    assert client.post("/articles", json={"title": "T", "body": "B", "status": "live"}, headers=sup).status_code == 422
    art = client.post("/articles", json={"title": "T", "body": "B"}, headers=sup).json()
    other = auth(workspace.tokens["other"])
    assert client.get(f"/articles/{art['id']}", headers=other).status_code == 404
    assert client.patch(f"/articles/{art['id']}", json={"title": "X"}, headers=other).status_code == 404
