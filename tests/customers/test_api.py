"""Customers with their records; search; tenant isolation."""

from deskmate.customers.service import upsert_customer, upsert_record
from tests.conftest import auth


def test_customer_with_records(client, store, workspace):
    with store.session() as s:
        c, state = upsert_customer(s, tenant_id=workspace.tenant_id, external_id="cminh730", name="Crystal Minh",
                                   email="cminh730@email.com", tier="bronze")
        assert state == "created"
        upsert_record(s, tenant_id=workspace.tenant_id, customer_id=c.id, kind="order", external_id="3348917502",
                      status="delivered", amount=94.0, currency="USD", attributes={"products": ["jeans"]})
        again, state = upsert_customer(s, tenant_id=workspace.tenant_id, external_id="cminh730", name="Crystal Minh")
        assert state == "unchanged" and again.id == c.id
        cid = c.id
    tok = auth(workspace.tokens["agent"])
    detail = client.get(f"/customers/{cid}", headers=tok).json()
    assert detail["tier"] == "bronze" and detail["records"][0]["amount"] == 94.0
    assert client.get("/customers?q=crystal", headers=tok).json()["total"] == 1
    assert client.get("/customers?q=nobody", headers=tok).json()["total"] == 0
    assert client.get(f"/customers/{cid}", headers=auth(workspace.tokens["other"])).status_code == 404
    assert client.get("/customers/abc", headers=tok).status_code == 422
