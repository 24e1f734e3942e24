"""Live assist end to end on a hand-built workspace, on SQLite and on PostgreSQL (tsvector full text)."""

from deskmate.conversations.models import ConversationCreate, ConversationUpdate, MessageCreate
from tests.conftest import auth

HISTORY = [  # (reason, customer opening, agent reply, actions)
    ("refund_initiate", "I want a refund for my boots", "I can help with that refund. May I have your full name?",
     ["pull-up-account", "verify-identity", "offer-refund"]),
    ("refund_initiate", "please refund my jacket, it doesn't fit", "I can help with that refund. May I have your full name?",
     ["pull-up-account", "verify-identity", "offer-refund"]),
    ("order_status", "where is my order? it is late", "Let me check where your parcel is. What's the order ID?",
     ["pull-up-account", "validate-purchase", "shipping-status"]),
    ("order_status", "my package has not arrived", "Let me check where your parcel is. What's the order ID?",
     ["pull-up-account", "validate-purchase", "shipping-status"]),
]


def _seed(store, tenant_id):
    from deskmate.accounts.models import Tenant
    from deskmate.conversations.service import append_message, create_conversation, update_conversation
    from deskmate.customers.service import upsert_customer, upsert_record
    from deskmate.knowledge.models import ArticleCreate
    from deskmate.knowledge.service import create_article, upsert_procedure

    with store.session() as s:
        tenant = s.get(Tenant, tenant_id)
        refunds = create_article(s, tenant_id=tenant_id, data=ArticleCreate(
            title="Starting a refund", body="Refunds go back to the original payment within 5 days once verified."))
        create_article(s, tenant_id=tenant_id, data=ArticleCreate(
            title="Tracking a parcel", body="A late parcel can be traced with the carrier after 3 days."))
        upsert_procedure(s, tenant_id=tenant_id, reason="refund_initiate", name="Refund",
                         actions=["pull-up-account", "verify-identity", "offer-refund"], article_id=refunds.id)
        customer, _ = upsert_customer(s, tenant_id=tenant_id, external_id="c-1", name="Anna Berg",
                                      email="anna@example.com")
        upsert_record(s, tenant_id=tenant_id, customer_id=customer.id, kind="order", external_id="ORD-1001", amount=40.0)
        for i in range(3):  # enough history for every statistic's minimum support
            for reason, opening, reply, actions in HISTORY:
                conv = create_conversation(s, tenant=tenant, data=ConversationCreate(customer_id=customer.id, reason=reason))
                append_message(s, tenant=tenant, conversation=conv, data=MessageCreate(role="customer", text=opening))
                append_message(s, tenant=tenant, conversation=conv, data=MessageCreate(role="agent", text=reply))
                for action in actions:
                    append_message(s, tenant=tenant, conversation=conv,
                                   data=MessageCreate(role="agent", kind="action", action=action))
                update_conversation(s, conversation=conv, data=ConversationUpdate(status="closed", outcome="resolved"))
        return refunds.id


def test_assist_end_to_end(settings, store, workspace, client):
    from deskmate.assist.pipeline import prepare_workspace

    refunds = _seed(store, workspace.tenant_id)
    models = prepare_workspace(settings, store.sessionmaker, workspace.tenant_id, progress=False)
    assert models.info["reply_bank"] >= 2 and len(models.passages) >= 2
    token = workspace.tokens["agent"]
    conv = client.post("/conversations", json={"customer_external_id": "c-1", "reason": "refund_initiate"},
                       headers=auth(token)).json()
    r = client.post(f"/conversations/{conv['id']}/messages", headers=auth(token),
                    json={"role": "customer", "text": "Hi, I would like a refund for my boots please"})
    update = r.json()["assist"]
    assert update["knowledge"][0]["article_id"] == refunds  # full text + dense + the procedure's article
    assert update["next_action"]["action"] == "pull-up-account" and update["next_action"]["source"] == "procedure"
    assert update["replies"] and update["replies"][0]["text"].startswith("I can help with that refund")
    assert update["context"]["name"] == "Anna Berg" and update["context"]["records"][0]["external_id"] == "ORD-1001"
