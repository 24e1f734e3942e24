"""An agent's relabel of a conversation's reason becomes intent training data."""

from sqlalchemy import select

from deskmate.learning.corrections import correction_examples
from deskmate.learning.models import IntentCorrection
from tests.conftest import auth
from tests.learning.factory import HAPPY_REFUND, store_conversation


def _conversation(store, workspace, reason):
    from deskmate.accounts.models import Tenant

    with store.session() as s:
        return store_conversation(s, tenant=s.get(Tenant, workspace.tenant_id), script=HAPPY_REFUND, reason=reason,
                                  agent_id=workspace.user_ids["agent"], close=False).id


def test_relabel_and_correction_become_training_data(client, store, workspace):
    agent, supervisor = auth(workspace.tokens["agent"]), auth(workspace.tokens["supervisor"])
    relabelled = _conversation(store, workspace, "order_status")
    labelled = _conversation(store, workspace, None)
    corrected = _conversation(store, workspace, "order_status")

    # An agent fixes the reason while working (PATCH), and another sets one where there was none.
    assert client.patch(f"/conversations/{relabelled}", headers=agent, json={"reason": "refund_initiate"}).status_code == 200
    assert client.patch(f"/conversations/{labelled}", headers=agent, json={"reason": "refund_initiate"}).status_code == 200
    # The dedicated route records who corrected it.
    r = client.post("/learning/corrections", headers=agent, json={"conversation_id": corrected, "reason": "refund_initiate"})
    assert r.status_code == 201, r.text
    assert r.json()["old_reason"] == "order_status" and r.json()["source"] == "api"
    assert client.get(f"/conversations/{corrected}", headers=agent).json()["reason"] == "refund_initiate"

    with store.session() as s:
        rows = {c.conversation_id: c for c in s.scalars(select(IntentCorrection))}
        examples = correction_examples(s, tenant_id=workspace.tenant_id)
    assert set(rows) == {relabelled, corrected}  # a first label is not a correction
    assert rows[relabelled].source == "relabel" and rows[relabelled].old_reason == "order_status"
    assert rows[corrected].user_id == workspace.user_ids["agent"]
    assert sorted(label for _, label in examples) == ["refund_initiate", "refund_initiate"]
    assert all(text.startswith("I was charged twice") for text, _ in examples)  # the customer's opening words

    listed = client.get("/learning/corrections", headers=supervisor).json()
    assert listed["total"] == 2
    assert client.get("/learning/corrections", headers=agent).status_code == 403


def test_bad_corrections_are_refused(client, store, workspace):
    agent = auth(workspace.tokens["agent"])
    conv = _conversation(store, workspace, "order_status")
    same = client.post("/learning/corrections", headers=agent, json={"conversation_id": conv, "reason": "order_status"})
    assert same.status_code == 422 and "already" in same.json()["detail"]
    assert client.post("/learning/corrections", headers=agent, json={"conversation_id": conv, "reason": ""}).status_code == 422
    other = client.post("/learning/corrections", headers=auth(workspace.tokens["other"]),
                        json={"conversation_id": conv, "reason": "refund_initiate"})
    assert other.status_code == 404
    assert client.post("/learning/corrections", json={"conversation_id": conv, "reason": "x"}).status_code == 401
