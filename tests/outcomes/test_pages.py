"""Outcome pages through the real app: team view, agent scorecard with coaching, conversation scorecard."""

from tests.outcomes.test_api import HAPPY_REFUND, NO_CLOSING, _procedure, _seed


def _sign_in(client, token):
    assert client.post("/login", data={"token": token, "next": "/"}, follow_redirects=False).status_code == 303


def test_team_view_and_agent_scorecard(client, store, workspace):
    _procedure(store, workspace)
    mine = _seed(store, workspace, [NO_CLOSING] * 3, agent="agent")
    _seed(store, workspace, [HAPPY_REFUND] * 3, agent="supervisor")
    _sign_in(client, workspace.tokens["supervisor"])
    team = client.get("/outcomes?since=")
    assert team.status_code == 200 and 'data-testid="agents"' in team.text
    assert "Agent User" in team.text and "Supervisor User" in team.text and "plotly.min.js" in team.text
    assert "No scored conversations" in client.get("/outcomes?since=1d").text
    assert "neither a duration" in client.get("/outcomes?since=soonish").text
    page = client.get(f"/outcomes/agent/{workspace.user_ids['agent']}?since=")
    assert page.status_code == 200 and "Correct closing" in page.text and 'data-testid="coaching"' in page.text
    assert "A peer who did it well" in page.text and f"/outcomes/conversation/{mine[0]}" in page.text


def test_agent_sees_own_pages_only(client, store, workspace):
    [mine] = _seed(store, workspace, [HAPPY_REFUND], agent="agent")
    [theirs] = _seed(store, workspace, [HAPPY_REFUND], agent="supervisor")
    _sign_in(client, workspace.tokens["agent"])
    r = client.get("/outcomes", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/outcomes/agent/{workspace.user_ids['agent']}"
    assert client.get(f"/outcomes/agent/{workspace.user_ids['supervisor']}").status_code == 403
    assert client.get(f"/outcomes/conversation/{theirs}").status_code == 403
    page = client.get(f"/outcomes/conversation/{mine}")
    assert page.status_code == 200
    assert 'data-testid="criteria"' in page.text and "Policy adherence" in page.text and 'id="m12"' in page.text
    assert "Contact about refund initiate" in page.text and "resolved" in page.text


def test_signed_out_goes_to_sign_in(client, workspace):
    r = client.get("/outcomes/conversation/1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
