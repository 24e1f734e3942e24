"""Learning pages render for a supervisor and refuse an agent."""

from deskmate.accounts.deps import SESSION_COOKIE
from tests.learning.test_ranking import _history


def _sign_in(client, token):
    r = client.post("/login", data={"token": token, "next": "/learning"}, follow_redirects=False)
    assert r.status_code == 303 and SESSION_COOKIE in r.headers["set-cookie"]


def _queued_gap(store, workspace) -> int:
    from deskmate.knowledge.models import ArticleCreate
    from deskmate.knowledge.service import create_article
    from deskmate.learning.models import GapDraft

    with store.session() as s:
        article = create_article(s, tenant_id=workspace.tenant_id, data=ArticleCreate(
            title="Gift cards", body="1. Enter the code under Payment.", status="draft"))
        gap = GapDraft(tenant_id=workspace.tenant_id, topic="gift_card", title="Gift cards",
                       body="1. Enter the code under Payment.", article_id=article.id, score=3.0,
                       signals={"unhelped_resolved": 3, "resolved": 3, "kb_dismissed": 2, "kb_rated_down": 0, "kb_absent": 1},
                       sources=[{"conversation_id": 1, "external_id": "gift-1", "quality_score": 80.0, "steps": 1}])
        s.add(gap)
        s.flush()
        return gap.id


def test_pages_render_for_a_supervisor(client, store, settings, workspace):
    from deskmate.accounts.models import Tenant
    from tests.learning.test_ranking import _save

    _history(store, settings, workspace, n=2)
    gap_id = _queued_gap(store, workspace)
    _sign_in(client, workspace.tokens["supervisor"])
    index = client.get("/learning")
    assert index.status_code == 200 and "Ranker versions" in index.text and "defaults" in index.text
    assert "/static/vendor/plotly.min.js" in index.text
    figures = {"next_action_hit@1": 0.9, "reply_recall@3": 0.6, "knowledge_hit@3": 0.8}
    with store.session() as s:
        first = _save(s, settings, s.get(Tenant, workspace.tenant_id), {}, figures, {})
        second = _save(s, settings, s.get(Tenant, workspace.tenant_id), {}, figures, figures)
    index = client.get("/learning")
    assert index.status_code == 200 and first.version in index.text and "0.900" in index.text
    assert "scores-chart" in index.text and index.text.count("Make current") == 1
    back = client.post(f"/learning/models/{first.version}/rollback", follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == "/learning"
    assert f'data-testid="current-version">{first.version}' in client.get("/learning").text
    assert second.version in client.get("/learning").text
    queue = client.get("/learning/queue")
    assert queue.status_code == 200 and "gift_card" in queue.text
    page = client.get(f"/learning/queue/{gap_id}")
    assert page.status_code == 200 and "Enter the code under Payment." in page.text and "gift-1" in page.text
    feedback = client.get("/learning/feedback")
    assert feedback.status_code == 200 and "By suggestion type" in feedback.text and "Agent User" in feedback.text
    assert client.get("/learning/feedback?since=nonsense").status_code == 200  # the page says what was wrong

    empty = client.post(f"/learning/queue/{gap_id}/publish", data={"title": "Gift cards", "body": " "})
    assert empty.status_code == 422 and "needs a title and a body" in empty.text
    done = client.post(f"/learning/queue/{gap_id}/publish", data={"title": "Gift cards", "body": "Enter it under Payment."},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/knowledge/")
    assert "published" in client.get(done.headers["location"]).text
    bad = client.post("/learning/models/nope/rollback", follow_redirects=False)
    assert bad.status_code == 303 and "error=" in bad.headers["location"]


def test_pages_refuse_an_agent(client, store, workspace):
    gap_id = _queued_gap(store, workspace)
    _sign_in(client, workspace.tokens["agent"])
    for path in ("/learning", "/learning/queue", f"/learning/queue/{gap_id}", "/learning/feedback"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/learning/queue/{gap_id}/publish", data={"title": "x", "body": "y"}).status_code == 403


def test_pages_send_a_visitor_to_sign_in(client, workspace):
    r = client.get("/learning/queue", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
