"""Articles as passages, full text on both databases, and freshness through the knowledge listener."""

import pytest

from deskmate.assist.fulltext import FullTextIndex, query_terms
from deskmate.assist.passages import MAX_WORDS, split_article


def test_split_keeps_headings_with_their_text_and_caps_length():
    body = "# Refunds\n\nWe refund within 30 days.\n\n## Steps\n\n1. Pull up the account.\n2. Verify identity.\n\n" + \
           " ".join(["Gift cards are final sale."] * 120)
    passages = split_article("Starting a refund", body)
    assert all(p.startswith("Starting a refund\n") for p in passages)
    assert any("Steps" in p and "Verify identity" in p for p in passages)
    assert all(len(p.split()) <= MAX_WORDS + 10 for p in passages)
    assert split_article("Empty", "") == []


def test_query_terms_drop_chit_chat_and_keep_newest_first():
    assert query_terms(["thanks, where is my refund?", "hi I need help with a return"]) == ["refund", "return"]


@pytest.fixture
def knowledge(store, workspace):
    from deskmate.assist.retrieval import register_article_listener

    register_article_listener()
    return store, workspace.tenant_id


def _search(session, tenant_id, words):
    return FullTextIndex.for_session(session).search(session, tenant_id=tenant_id, terms=words, limit=5)


def test_fulltext_follows_article_edits_and_tenants(knowledge, workspace):
    from deskmate.assist.models import Passage
    from deskmate.knowledge.models import ArticleCreate, ArticleUpdate
    from deskmate.knowledge.service import create_article, update_article

    store, tenant_id = knowledge
    with store.session() as s:
        article = create_article(s, tenant_id=tenant_id, data=ArticleCreate(
            title="Exchanging an item", body="Customers can exchange a jacket for another size within 30 days."))
        create_article(s, tenant_id=workspace.other_tenant_id, data=ArticleCreate(
            title="Other tenant", body="An exchange policy that belongs to someone else."))
        draft = create_article(s, tenant_id=tenant_id, data=ArticleCreate(
            title="Warranty claims", body="Boots have a two year warranty against sole separation.", status="draft"))
        article_id, draft_id = article.id, draft.id
    with store.session() as s:
        hits = _search(s, tenant_id, ["exchange", "jacket"])
        assert hits and {s.get(Passage, pid).article_id for pid, _ in hits} == {article_id}  # never the other tenant's
        assert _search(s, tenant_id, ["warranty"]) == []  # drafts are not suggested
        update_article(s, article=s.get(type(article), article_id),
                       data=ArticleUpdate(body="Exchanges now take 60 days and need the receipt."))
        update_article(s, article=s.get(type(draft), draft_id), data=ArticleUpdate(status="published"))
    with store.session() as s:
        assert _search(s, tenant_id, ["jacket"]) == []  # the old text is gone
        assert _search(s, tenant_id, ["receipt"])
        assert _search(s, tenant_id, ["warranty"])  # published a second ago, found now


def test_dense_index_catches_up_with_published_drafts(knowledge, settings):
    from deskmate.assist.retrieval import DenseKnowledgeIndex, KnowledgeRetriever
    from deskmate.knowledge.models import ArticleCreate
    from deskmate.knowledge.service import create_article
    from deskmate.nlp.encoder import get_encoder

    store, tenant_id = knowledge
    encoder = get_encoder(settings)
    retriever = KnowledgeRetriever(tenant_id, DenseKnowledgeIndex(tenant_id))
    query = encoder.encode(["my parcel never arrived"])[0]
    with store.session() as s:
        assert retriever.suggest(s, texts=["parcel never arrived"], vector=query, intent_probs={}, encoder=encoder) == []
        create_article(s, tenant_id=tenant_id, data=ArticleCreate(
            title="Lost parcels", body="If a parcel never arrived, open a carrier trace and reship after 5 days."))
    with store.session() as s:
        hits = retriever.suggest(s, texts=["where is my package"], vector=query, intent_probs={}, encoder=encoder)
        assert [h.title for h in hits] == ["Lost parcels"] and hits[0].dense_score > 0.3
