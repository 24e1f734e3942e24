"""ABCD: dialogues with actions, customers and orders; guidelines as articles; kb as procedures."""

from __future__ import annotations

import gzip
import json

from sqlalchemy import select

from deskmate.conversations.models import Conversation, Message
from deskmate.customers.models import Customer, CustomerRecord
from deskmate.knowledge.models import Article, Procedure

from .conftest import counts, do_import, dump


def test_sample_dialogues(store, tenant, data_dir):
    summary = do_import(store, tenant, "abcd", data_dir / "abcd" / "abcd_sample.json")
    assert counts(summary) == (3, 0, 0, 0) and summary.messages == 29 + 21 + 22
    with store.session() as s:
        conv = s.scalar(select(Conversation).where(Conversation.source == "abcd", Conversation.external_id == "3592"))
        assert (conv.reason, conv.status) == ("return_size", "closed")
        assert [lab.label for lab in conv.labels] == ["product_defect"]
        actions = s.execute(select(Message.seq, Message.action, Message.action_values).where(
            Message.conversation_id == conv.id, Message.kind == "action").order_by(Message.seq)).all()
        assert [(seq, action) for seq, action, _ in actions] == [
            (7, "pull-up-account"), (13, "validate-purchase"), (23, "enter-details"), (24, "notify-team")]
        # values are named after the scenario field they match; the name is redacted like any text
        assert actions[1][2]["username"] == "cminh730" and actions[1][2]["email"] == "[EMAIL]"
        assert actions[3][2] == {"values": ["manager"]}
        customer = s.get(Customer, conv.customer_id)
        assert (customer.external_id, customer.name, customer.tier) == ("cminh730", "Crystal Minh", "bronze")
        order = s.scalar(select(CustomerRecord).where(CustomerRecord.external_id == "3348917502"))
        assert order.customer_id == customer.id and order.amount == 94.0
        assert order.attributes["products"] == [{"brand": "michael_kors", "product_type": "jeans", "amount": 94}]
        # an FAQ dialogue's reason is the FAQ topic, its question number kept aside
        faq = s.scalar(select(Conversation).where(Conversation.external_id == "3695"))
        assert faq.reason == "timing" and faq.attributes["subflow"] == "timing_4"
        # no username in that scenario: the customer is keyed by the phone it gives
        assert s.get(Customer, faq.customer_id).external_id == "(859) 787-9085"


def test_reimport_changes_nothing(store, tenant, data_dir):
    path = data_dir / "abcd" / "abcd_sample.json"
    do_import(store, tenant, "abcd", path)
    before = dump(store, tenant, bookkeeping=True)
    assert counts(do_import(store, tenant, "abcd", path)) == (0, 0, 3, 0)
    assert dump(store, tenant, bookkeeping=True) == before


def test_full_corpus_layout_gzipped_imports_the_same(store, workspace, data_dir, tmp_path):
    """The full corpus is {"train": [...], "dev": [...], "test": [...]} in a .gz file; it streams."""
    dialogues = json.loads((data_dir / "abcd" / "abcd_sample.json").read_text())
    corpus = tmp_path / "abcd_v1.1.json.gz"
    with gzip.open(corpus, "wt") as fh:
        json.dump({"train": dialogues[:2], "dev": [], "test": dialogues[2:]}, fh)
    do_import(store, workspace.tenant_id, "abcd", data_dir / "abcd" / "abcd_sample.json")
    summary = do_import(store, workspace.other_tenant_id, "abcd", corpus)
    assert counts(summary) == (3, 0, 0, 0)
    ours, theirs = dump(store, workspace.tenant_id), dump(store, workspace.other_tenant_id)
    for table in ("customers", "records", "labels"):
        assert ours[table] == theirs[table]
    # times are the first import's (ABCD has none), so compare everything else
    strip = lambda rows, cut: [r[:cut] + r[cut + 1:] for r in rows]  # noqa: E731
    assert strip(ours["messages"], 8) == strip(theirs["messages"], 8)


def test_broken_dialogue_is_rejected_with_its_record_number(store, tenant, data_dir, tmp_path):
    dialogues = json.loads((data_dir / "abcd" / "abcd_sample.json").read_text())
    broken = json.loads(json.dumps(dialogues[0]))
    broken["convo_id"] = 1
    broken["delexed"][6]["targets"] = []  # the first action turn loses its action name
    path = tmp_path / "broken.json"
    path.write_text(json.dumps({"train": [dialogues[1], broken, {"convo_id": 2}], "test": [dialogues[2]]}))
    summary = do_import(store, tenant, "abcd", path)
    assert counts(summary) == (2, 0, 0, 2)
    assert summary.rejections[0].startswith("record 2 (train[1]): original turn 7: an action without")
    assert summary.rejections[1].startswith("record 3 (train[2]): a dialogue needs")


def test_truncated_file_keeps_what_came_before(store, tenant, data_dir, tmp_path):
    text = (data_dir / "abcd" / "abcd_sample.json").read_text()
    path = tmp_path / "cut.json"
    path.write_text(text[: int(len(text) * 0.8)])
    summary = do_import(store, tenant, "abcd", path)
    assert summary.created == 2 and summary.rejected == 1
    assert "invalid JSON" in summary.rejections[0] and "cannot be read" in summary.rejections[0]


def test_guidelines_and_kb_link_whichever_comes_first(store, workspace, data_dir):
    abcd = data_dir / "abcd"
    for tenant, order in ((workspace.tenant_id, ("abcd-kb", "abcd-guidelines")),
                          (workspace.other_tenant_id, ("abcd-guidelines", "abcd-kb"))):
        for source in order:
            summary = do_import(store, tenant, source, abcd / ("kb.json" if source == "abcd-kb" else "guidelines.json"))
            assert counts(summary) == (55, 0, 0, 0), source
    with store.session() as s:
        procedures = s.scalars(select(Procedure).where(Procedure.tenant_id == workspace.tenant_id)).all()
        assert len(procedures) == 55 and all(p.article_id for p in procedures)
        refund = next(p for p in procedures if p.reason == "refund_initiate")
        assert refund.actions[:2] == ["pull-up-account", "validate-purchase"]
        article = s.get(Article, refund.article_id)
        assert article.title == "Product Defect: Initiate Refund" and article.status == "published"
        assert article.tags == ["product_defect", "refund_initiate"] and "1. **Pull up Account**" in article.body
    assert dump(store, workspace.tenant_id)["procedures"] == dump(store, workspace.other_tenant_id)["procedures"]
    before = dump(store, workspace.tenant_id, bookkeeping=True)
    assert counts(do_import(store, workspace.tenant_id, "abcd-guidelines", abcd / "guidelines.json")) == (0, 0, 55, 0)
    assert counts(do_import(store, workspace.tenant_id, "abcd-kb", abcd / "kb.json")) == (0, 0, 55, 0)
    assert dump(store, workspace.tenant_id, bookkeeping=True) == before


def test_kb_changes_update_procedures_in_place(store, tenant, data_dir, tmp_path):
    kb = json.loads((data_dir / "abcd" / "kb.json").read_text())
    do_import(store, tenant, "abcd-kb", data_dir / "abcd" / "kb.json")
    kb["recover_username"] = ["pull-up-account", "verify-identity", "send-link"]
    kb["bogus"] = "not a list"
    path = tmp_path / "kb.json"
    path.write_text(json.dumps(kb))
    summary = do_import(store, tenant, "abcd-kb", path)
    assert counts(summary) == (0, 1, 54, 1)
    assert summary.rejections == ["record 56 (bogus): expected a non-empty list of action names"]
