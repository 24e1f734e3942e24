"""Feedback statistics and onboarding examples through the API."""

from tests.conftest import auth
from tests.learning.test_ranking import _history


def test_feedback_statistics(client, store, settings, workspace):
    _history(store, settings, workspace, n=3)
    r = client.get("/learning/stats", headers=auth(workspace.tokens["supervisor"]))
    assert r.status_code == 200, r.text
    body = r.json()
    kb = next(k for k in body["by_kind"] if k["kind"] == "kb")
    assert kb["suggestions"] == 12 and kb["accepted"] == 6 and kb["acceptance_rate"] == 0.5 and kb["dismissed"] == 6
    assert body["by_agent"][0]["agent_name"] == "Agent User" and body["by_week"][0]["week"].startswith("20")
    joined = body["outcome_joined"]["kb"]
    assert joined["accepted"]["resolved_rate"] == 0.5  # half the used articles went with resolved conversations
    assert client.get("/learning/stats", headers=auth(workspace.tokens["agent"])).status_code == 403
    assert client.get("/learning/stats?since=soon", headers=auth(workspace.tokens["supervisor"])).status_code == 422
    future = client.get("/learning/stats?since=2999-01-01", headers=auth(workspace.tokens["supervisor"])).json()
    assert future["overall"]["suggestions"] == 0 and future["overall"]["acceptance_rate"] is None


def test_onboarding_shows_the_best_resolved_examples(client, store, settings, workspace):
    _history(store, settings, workspace, n=3)
    agent = auth(workspace.tokens["agent"])
    index = client.get("/learning/onboarding", headers=agent).json()
    assert index == [{"reason": "refund", "conversations": 6}]
    r = client.get("/learning/onboarding/refund", headers=agent)
    assert r.status_code == 200, r.text
    o = r.json()
    assert o["resolved"] == 3 and o["conversations"] == 6
    assert o["typical_path"] == ["pull-up-account", "verify-identity", "offer-refund"] and o["path_share"] == 1.0
    assert len(o["examples"]) == 2  # at most two from one agent, so a newcomer sees more than one style
    assert all(e["actions"] == o["typical_path"] and e["replies"] for e in o["examples"])
    assert o["top_agents"][0]["agent_name"] == "Agent User" and o["top_agents"][0]["resolution_rate"] == 0.5
    assert client.get("/learning/onboarding/nothing_like_this", headers=agent).status_code == 404
    assert client.get("/learning/onboarding/refund", headers=auth(workspace.tokens["other"])).status_code == 404
