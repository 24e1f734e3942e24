"""New intents proposed from emerging topics found by insights."""

from datetime import datetime, timezone

from tests.conftest import auth
from tests.learning.factory import store_conversation


def test_emerging_topic_is_proposed_with_example_messages(client, store, workspace):
    from deskmate.accounts.models import Tenant
    from deskmate.insights.models import InsightAlert, InsightTopic

    with store.session() as s:
        tenant = s.get(Tenant, workspace.tenant_id)
        ids = [store_conversation(s, tenant=tenant, reason=None, external_id=f"zip-{i}", script=[
            ("c", f"The zip on my new Trailhead jacket broke after {i + 2} days"), ("a", "I'm sorry to hear that.")]).id
            for i in range(3)]
        topic = InsightTopic(tenant_id=tenant.id, number=7, label="Trailhead jacket zip broken", status="emerging")
        s.add(topic)
        s.flush()
        s.add(InsightAlert(tenant_id=tenant.id, key="new_topic:7:2026-08-03", kind="new_topic", dimension="topic",
                           subject="7", topic_id=topic.id, title="New topic: Trailhead jacket zip broken",
                           day=datetime(2026, 8, 3, tzinfo=timezone.utc), observed=3, expected=0.2, ratio=15.0,
                           p_value=0.001, terms=[["zip", 0.9], ["jacket", 0.7]], conversation_ids=ids))
    r = client.get("/learning/intents/proposals", headers=auth(workspace.tokens["supervisor"]))
    assert r.status_code == 200, r.text
    [proposal] = r.json()
    assert proposal["suggested_label"] == "trailhead_jacket_zip_broken" and proposal["conversations"] == 3
    assert proposal["terms"] == ["zip", "jacket"]
    assert len(proposal["examples"]) == 3 and all("zip on my new Trailhead jacket" in e for e in proposal["examples"])
    assert client.get("/learning/intents/proposals", headers=auth(workspace.tokens["agent"])).status_code == 403
