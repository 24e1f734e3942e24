"""The batch retrain replays candidates with assist's harness: a worse version is not promoted, a fitted one is."""

import pytest
from sqlalchemy import select

from tests.learning.factory import store_conversation

pytestmark = pytest.mark.slow

ARTICLES = [
    ("Refund a double charge", "When a customer was charged twice for an order, verify identity then refund the duplicate charge."),
    ("Charged twice by the bank", "A double charge from the bank for an order usually drops off; refund if it stays."),
    ("Order charges explained", "Every order charge shows on the card statement; a second charge for the order is a pre-authorisation."),
    ("Card declined at checkout", "A card charge declined for an order: ask the customer to try another card."),
    ("Gift card charge", "A gift card charge for an order is taken before the card is charged."),
    ("Refund timing", "A refund for an order charge reaches the card in 3 to 5 days."),
]


def _script(i: int):
    return [("c", "Hello, I was charged twice for my order"), ("a", "I'm sorry, let me check that charge."),
            ("c", f"It is order number {1000 + i}, the charge shows twice on my card"),
            ("act", "pull-up-account"), ("act", "verify-identity"), ("act", "offer-refund"),
            ("a", "I've refunded the duplicate charge."), ("c", "Thank you, great!")]


@pytest.fixture
def kb_workspace(store, settings, workspace):
    from deskmate.accounts.models import Tenant
    from deskmate.assist.models import FeedbackEvent
    from deskmate.knowledge.models import ArticleCreate
    from deskmate.knowledge.service import create_article, upsert_procedure
    from deskmate.plugins import default_events

    events = default_events(settings)
    with store.session() as s:
        ids = [create_article(s, tenant_id=workspace.tenant_id, data=ArticleCreate(title=t, body=b)).id for t, b in ARTICLES]
        upsert_procedure(s, tenant_id=workspace.tenant_id, reason="double_charge", name="Double charge",
                         actions=["pull-up-account", "verify-identity", "offer-refund"], article_id=ids[0])
    from datetime import timedelta

    from tests.learning.factory import T0

    for i in range(16):
        with store.session() as s:
            tenant = s.get(Tenant, workspace.tenant_id)
            conv = store_conversation(s, tenant=tenant, script=_script(i), reason="double_charge", close=False,
                                      agent_id=workspace.user_ids["agent"], start=T0 + timedelta(hours=i))
            for article, event in ((ids[0], "inserted"), (ids[1], "dismissed"), (ids[2], "dismissed")):
                s.add(FeedbackEvent(tenant_id=tenant.id, conversation_id=conv.id, suggestion_id=f"kb:{article}:{conv.id}:3",
                                    suggestion_type="kb", event=event))
            from deskmate.conversations.models import ConversationUpdate
            from deskmate.conversations.service import update_conversation

            update_conversation(s, conversation=conv, data=ConversationUpdate(status="closed", outcome="resolved"),
                                events=events)
    return ids


def test_worse_version_is_not_promoted_and_a_fitted_one_is(store, settings, workspace, kb_workspace):
    from deskmate.learning import store as ranker_store
    from deskmate.learning.models import ModelVersion
    from deskmate.learning.retrain import retrain

    worse = retrain(settings, store.sessionmaker, tenant_slug="acme", holdout=0.25, params={"weights": {"kb": -1.6}})
    assert not worse.promoted and worse.version.status == "rejected"
    assert worse.scores["knowledge_hit@3"] < worse.baseline["knowledge_hit@3"]
    assert "knowledge_hit@3" in worse.version.decision
    assert ranker_store.current_version(settings, "acme") is None  # nothing was promoted: live assist unchanged

    fitted = retrain(settings, store.sessionmaker, tenant_slug="acme", holdout=0.25)
    assert fitted.promoted and fitted.version.status == "current"
    assert fitted.scores["knowledge_hit@3"] >= fitted.baseline["knowledge_hit@3"]
    assert ranker_store.current_version(settings, "acme") == fitted.version.version
    with store.session() as s:
        rows = {v.version: v.status for v in s.scalars(select(ModelVersion))}
    assert rows == {worse.version.version: "rejected", fitted.version.version: "current"}
