"""Knowledge gaps: found where agents resolve without an article, drafted from their replies, published into retrieval."""

import re

import pytest
from sqlalchemy import select

from deskmate.learning.drafts import rouge_l
from tests.conftest import auth
from tests.learning.factory import store_conversation

GREETING = ("a", "Hi, thanks for contacting Loomhouse! How can I help?")
CLOSING = ("a", "Is there anything else I can help you with today?")


def _gift_card(i: int):
    email = f"jane.doe{i}@example.com"
    return [GREETING, ("c", f"My gift card code doesn't work at checkout, my email is {email}"),
            ("act", "pull-up-account"),
            ("a", f"I found the card on the account of {email}; gift cards are entered at checkout under Payment, "
                  "not in the promo code box."),
            ("act", "search-faq"),
            ("a", "Gift card balances never expire and can be split across several orders."),
            ("c", "Oh that worked, thanks!"), CLOSING]


def _order_status():
    return [GREETING, ("c", "Where is my order?"), ("act", "pull-up-account"), ("act", "shipping-status"),
            ("a", "Your order is on its way and should arrive on Friday."), ("c", "Great, thanks"), CLOSING]


@pytest.fixture
def gap_workspace(store, workspace):
    from deskmate.accounts.models import Tenant
    from deskmate.knowledge.models import ArticleCreate
    from deskmate.knowledge.service import create_article, upsert_procedure

    with store.session() as s:
        tenant = s.get(Tenant, workspace.tenant_id)
        tenant.settings = {"redact_pii": False}  # stored as written: the draft must still carry no PII
        article = create_article(s, tenant_id=tenant.id, data=ArticleCreate(
            title="Where is my order", body="Check the shipping status and tell the customer the delivery date."))
        upsert_procedure(s, tenant_id=tenant.id, reason="order_status", name="Order status",
                         actions=["pull-up-account", "shipping-status"], article_id=article.id)
        upsert_procedure(s, tenant_id=tenant.id, reason="gift_card", name="Gift card problems",
                         actions=["pull-up-account", "search-faq"])
        for i in range(7):
            store_conversation(s, tenant=tenant, script=_gift_card(i), reason="gift_card", external_id=f"gift-{i}")
            store_conversation(s, tenant=tenant, script=_order_status(), reason="order_status", external_id=f"order-{i}")
    return workspace


def test_gap_found_and_drafted_with_sources_and_no_pii(store, gap_workspace):
    from deskmate.accounts.models import Tenant
    from deskmate.knowledge.models import Article
    from deskmate.learning.gaps import detect_gaps, gap_signals
    from deskmate.nlp.encoder import get_encoder

    with store.session() as s:
        signals = {g.topic: g for g in gap_signals(s, tenant_id=gap_workspace.tenant_id)}
        assert signals["gift_card"].is_gap and signals["gift_card"].kb_absent == 7
        assert not signals["order_status"].is_gap and signals["order_status"].linked_article
        drafts = detect_gaps(s, tenant=s.get(Tenant, gap_workspace.tenant_id), encoder=get_encoder())
        assert [d.topic for d in drafts] == ["gift_card"]
        draft = drafts[0]
        article = s.get(Article, draft.article_id)
        assert article.status == "draft" and article.title == "Gift card problems"
        body = draft.body
        assert "entered at checkout under Payment" in body and "never expire" in body
        assert "Hi, thanks for contacting" not in body and "anything else" not in body  # said for every reason
        assert body.index("checkout under Payment") < body.index("never expire")  # the order agents say them in
        assert "example.com" not in body and not re.search(r"jane", body, re.I) and "[EMAIL]" in body
        assert {src["external_id"] for src in draft.sources} == {f"gift-{i}" for i in range(7)}
        assert rouge_l(body, body) == 1.0 and rouge_l("", body) == 0.0
        # Detecting again keeps the queued draft (a supervisor may be editing it).
        again = detect_gaps(s, tenant=s.get(Tenant, gap_workspace.tenant_id), encoder=get_encoder())
        assert [d.id for d in again] == [draft.id]


def test_publishing_a_draft_puts_it_into_retrieval(client, store, gap_workspace):
    from deskmate.assist.models import Passage
    from deskmate.knowledge.models import Procedure

    supervisor = auth(gap_workspace.tokens["supervisor"])
    assert client.post("/learning/gaps/detect", headers=auth(gap_workspace.tokens["agent"])).status_code == 403
    found = client.post("/learning/gaps/detect", headers=supervisor)
    assert found.status_code == 200, found.text
    gap = found.json()[0]
    detail = client.get(f"/learning/gaps/{gap['id']}", headers=supervisor).json()
    assert detail["article_status"] == "draft" and detail["sources"]
    edited = detail["article_body"] + "\n\nCodes are 16 digits."
    r = client.post(f"/learning/gaps/{gap['id']}/publish", headers=supervisor, json={"body": edited})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "published" and r.json()["article_status"] == "published"
    assert r.json()["article_body"].endswith("Codes are 16 digits.")
    with store.session() as s:
        passages = s.scalars(select(Passage).where(Passage.article_id == gap["article_id"], Passage.active.is_(True))).all()
        procedure = s.scalar(select(Procedure).where(Procedure.reason == "gift_card"))
    assert passages and any("16 digits" in p.text for p in passages)
    assert procedure.article_id == gap["article_id"]  # the reason's procedure now points agents to it
    again = client.post(f"/learning/gaps/{gap['id']}/publish", headers=supervisor, json={})
    assert again.status_code == 422 and "already published" in again.json()["detail"]
    assert client.get("/learning/gaps/999999", headers=supervisor).status_code == 404
    assert client.get(f"/learning/gaps/{gap['id']}", headers=auth(gap_workspace.tokens["other"])).status_code == 404


def test_workspace_preparation_is_idempotent(store, settings, gap_workspace):
    from sqlalchemy import func

    from deskmate.learning.models import FeedbackOutcome, GapDraft
    from deskmate.learning.pipeline import prepare_workspace

    from sqlalchemy import delete

    with store.session() as s:  # as if the history was imported before the learning loop was installed
        s.execute(delete(FeedbackOutcome))
    first = prepare_workspace(settings, store.sessionmaker, gap_workspace.tenant_id, progress=None)
    with store.session() as s:
        rows = s.scalar(select(func.count()).select_from(FeedbackOutcome))
    assert first["gaps"] == ["gift_card"] and first["joined_rows"] == rows > 0
    from deskmate.learning import store as ranker_store
    from deskmate.learning.ranking import load_ranker

    assert ranker_store.current_version(settings, "acme") == first["initial_version"]
    assert load_ranker(settings, "acme").stats.rows == rows  # the live ranker starts from the snapshot
    second = prepare_workspace(settings, store.sessionmaker, gap_workspace.tenant_id, progress=None)
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(FeedbackOutcome)) == rows
        assert s.scalar(select(func.count()).select_from(GapDraft)) == 1
    assert second == {"joined_rows": 0, "gaps": ["gift_card"], "initial_version": None}
