"""Outcomes through the real app: scoring on close, scorecards, reopens, reports, coaching, roles and tenants."""

from datetime import timedelta

from sqlalchemy import select

from deskmate.accounts.models import Tenant
from deskmate.customers.models import Customer
from deskmate.knowledge.models import Procedure
from deskmate.outcomes.models import ConversationScore
from tests.conftest import auth
from tests.outcomes.factory import HAPPY_REFUND, REFUND, T0, store_conversation

NO_CLOSING = [x for x in HAPPY_REFUND if x[0] != "a" or "anything else" not in x[1].lower() and "have a great" not in x[1].lower()]


def _seed(store, workspace, scripts, *, customer=None, reason="refund_initiate", agent="agent", gap_days=1, **kw):
    ids = []
    with store.session() as s:
        tenant = s.get(Tenant, workspace.tenant_id)
        for i, script in enumerate(scripts):
            conv = store_conversation(s, tenant=tenant, script=script, reason=reason, customer_id=customer,
                                      agent_id=workspace.user_ids[agent], start=T0 + timedelta(days=gap_days * i), **kw)
            ids.append(conv.id)
    return ids


def _procedure(store, workspace):
    with store.session() as s:
        s.add(Procedure(tenant_id=workspace.tenant_id, reason="refund_initiate", name="Refund", actions=REFUND))


def test_closing_a_conversation_scores_it(client, store, workspace):
    _procedure(store, workspace)
    tok = workspace.tokens["agent"]
    body = {"reason": "refund_initiate", "agent_id": workspace.user_ids["agent"], "messages": [
        {"role": "customer", "text": "I want to return my jacket, it doesn't fit"},
        {"role": "agent", "kind": "action", "action": "offer-refund", "action_values": {"amount": 94}},
        {"role": "agent", "text": "Done, refund issued. Anything else I can help with?"},
        {"role": "customer", "text": "no, thanks a lot!"},
    ]}
    conv = client.post("/conversations", json=body, headers=auth(tok)).json()
    assert client.patch(f"/conversations/{conv['id']}", json={"status": "closed"}, headers=auth(tok)).status_code == 200
    with store.session() as s:  # stored by the close itself, before anyone asks
        row = s.scalar(select(ConversationScore).where(ConversationScore.conversation_id == conv["id"]))
        assert row is not None and row.resolution_source == "rules"
    card = client.get(f"/conversations/{conv['id']}/scorecard", headers=auth(tok)).json()
    assert card["predicted_outcome"] == "resolved" and 0 < card["outcome_probability"] <= 1
    policy = next(c for c in card["criteria"] if c["key"] == "policy_adherence")
    assert policy["result"] == "fail" and policy["evidence"][0]["seq"] == 2
    assert card["policy_adherence"] == "fail" and card["summary"]["actions"][0]["action"] == "offer-refund"
    assert set(card["resolution_quality_parts"]) == {"outcome", "no_reopen", "sentiment_end", "sentiment_shift", "effort"}


def test_scorecard_computed_on_demand_and_refreshed_when_the_conversation_changes(client, store, workspace):
    tok = workspace.tokens["supervisor"]
    conv = client.post("/conversations", json={"messages": [{"role": "customer", "text": "where is my parcel??"}]},
                       headers=auth(tok)).json()
    first = client.get(f"/conversations/{conv['id']}/scorecard", headers=auth(tok)).json()
    assert first["effort"]["customer_messages"] == 1
    client.post(f"/conversations/{conv['id']}/messages", json={"role": "customer", "text": "hello? anyone there?"},
                headers=auth(tok))
    second = client.get(f"/conversations/{conv['id']}/scorecard", headers=auth(tok)).json()
    assert second["effort"]["customer_messages"] == 2 and second["scored_at"] > first["scored_at"]


def test_roles_and_tenants(client, store, workspace):
    [mine] = _seed(store, workspace, [HAPPY_REFUND], agent="agent")
    [theirs] = _seed(store, workspace, [HAPPY_REFUND], agent="supervisor")
    agent, sup = auth(workspace.tokens["agent"]), auth(workspace.tokens["supervisor"])
    assert client.get(f"/conversations/{mine}/scorecard", headers=agent).status_code == 200
    r = client.get(f"/conversations/{theirs}/scorecard", headers=agent)
    assert r.status_code == 403 and "own" in r.json()["detail"]
    assert client.get(f"/conversations/{theirs}/scorecard", headers=sup).status_code == 200
    assert client.get(f"/conversations/{mine}/scorecard", headers=auth(workspace.tokens["other"])).status_code == 404
    assert client.get("/conversations/999999/scorecard", headers=sup).status_code == 404
    me, other = workspace.user_ids["agent"], workspace.user_ids["supervisor"]
    assert client.get(f"/outcomes/agents/{me}/scorecard", headers=agent).status_code == 200
    assert client.get(f"/outcomes/agents/{other}/scorecard", headers=agent).status_code == 403
    assert client.get(f"/outcomes/coaching/{other}", headers=agent).status_code == 403
    assert client.get("/outcomes/team", headers=agent).status_code == 403
    assert client.post("/outcomes/score", json={}, headers=agent).status_code == 403
    assert client.get(f"/outcomes/agents/{me}/scorecard", headers=auth(workspace.tokens["other"])).status_code == 404


def test_bad_periods_are_422(client, workspace):
    sup = auth(workspace.tokens["supervisor"])
    r = client.get("/outcomes/team?since=last-tuesday", headers=sup)
    assert r.status_code == 422 and "since" in r.json()["detail"]
    r = client.get("/outcomes/team?since=2026-09-01&until=2026-08-01", headers=sup)
    assert r.status_code == 422
    assert client.post("/outcomes/score", json={"since": "soon"}, headers=sup).status_code == 422


def test_same_customer_back_on_the_same_reason_within_7_days_is_a_reopen(client, store, workspace):
    with store.session() as s:
        cust = Customer(tenant_id=workspace.tenant_id, external_id="cust-1", name="Ann Lee")
        s.add(cust)
        s.flush()
        cid = cust.id
    first, second, third = _seed(store, workspace, [HAPPY_REFUND] * 3, customer=cid, gap_days=3)
    sup = auth(workspace.tokens["supervisor"])
    cards = [client.get(f"/conversations/{i}/scorecard", headers=sup).json() for i in (first, second, third)]
    assert [c["reopened"] for c in cards] == [True, True, False]
    assert cards[0]["reopened_by"] == second and cards[1]["reopened_by"] == third
    assert cards[0]["resolution_quality_parts"]["no_reopen"]["points"] == 0
    assert cards[2]["resolution_quality_parts"]["no_reopen"]["points"] == 15


def test_bulk_scoring_skips_scored_and_rescoring_all(client, store, workspace):
    ids = _seed(store, workspace, [HAPPY_REFUND, NO_CLOSING])
    with store.session() as s:
        s.execute(ConversationScore.__table__.delete())
    sup = auth(workspace.tokens["supervisor"])
    run = client.post("/outcomes/score", json={}, headers=sup).json()
    assert run["scored"] == 2 and run["skipped"] == 0 and run["resolution_source"] == "rules"
    assert client.post("/outcomes/score", json={}, headers=sup).json() == run | {"scored": 0, "skipped": 2}
    assert client.post("/outcomes/score", json={"all": True}, headers=sup).json()["scored"] == 2
    assert client.post("/outcomes/score", json={"conversation_ids": ids[:1]}, headers=sup).json()["scored"] == 1


def test_agent_and_team_scorecards_and_coaching(client, store, workspace):
    _procedure(store, workspace)
    # The agent never closes properly; the supervisor (as a peer) does, on the same reason.
    _seed(store, workspace, [NO_CLOSING] * 4, agent="agent")
    peer = _seed(store, workspace, [HAPPY_REFUND] * 3, agent="supervisor")
    me = workspace.user_ids["agent"]
    agent = auth(workspace.tokens["agent"])
    r = client.get(f"/outcomes/agents/{me}/scorecard?since=2026-08-01", headers=agent)
    assert r.status_code == 200, r.text
    card = r.json()
    assert card["conversations"] == 4 and card["team"]["conversations"] == 7
    closing = next(c for c in card["criteria"] if c["key"] == "closing")
    assert closing["failed"] == 4 and closing["pass_rate"] == 0
    assert card["weakest"][0]["key"] == "closing" and len(card["weakest"][0]["examples"]) == 3
    assert card["strongest"] and card["strongest"][0]["pass_rate"] == 1.0
    assert card["trend"][0]["week"] == "2026-W32" and card["handle_minutes_median"] > 0
    coach = client.get(f"/outcomes/coaching/{me}", headers=agent).json()
    item = coach["items"][0]
    assert item["criterion"] == "closing" and item["agent_pass_rate"] == 0 and item["team_pass_rate"] == 1
    assert item["peer_example"]["conversation_id"] in peer and item["peer_example"]["reason"] == "refund_initiate"
    assert item["peer_example"]["quality_score"] > item["agent_example"]["quality_score"]
    assert item["peer_example"]["agent_name"] == "Supervisor User" and item["peer_example"]["evidence"]
    team = client.get("/outcomes/team?since=2026-08-01", headers=auth(workspace.tokens["supervisor"])).json()
    assert team["conversations"] == 7 and {a["agent"]["id"] for a in team["agents"]} == {me, workspace.user_ids["supervisor"]}
    assert sum(team["quality"]["histogram"]) == 7
    empty = client.get(f"/outcomes/agents/{me}/scorecard?since=2030-01-01", headers=agent).json()
    assert empty["conversations"] == 0 and empty["resolution_rate"] is None
