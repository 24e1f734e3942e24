"""Canonical JSONL: contents, redaction, idempotency, in-place updates, rejections and --strict."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from deskmate.accounts.models import Tenant, User
from deskmate.conversations.models import Conversation, Message
from deskmate.customers.models import Customer, CustomerRecord
from deskmate.errors import InvalidInput
from deskmate.importers import get_importer, import_records

from .conftest import DATA, counts, do_import, dump

FIXTURE = DATA / "conversations.jsonl"


def lines() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text().splitlines() if line.strip()]


def write(path, records) -> None:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))


def test_imports_conversations_customers_records_and_agents(store, tenant):
    summary = do_import(store, tenant, "jsonl", FIXTURE)
    assert counts(summary) == (5, 0, 0, 0)
    assert summary.messages == 19
    with store.session() as s:
        conv = s.scalar(select(Conversation).where(Conversation.external_id == "c-1001"))
        assert (conv.source, conv.channel, conv.status, conv.outcome, conv.reason) == (
            "jsonl", "chat", "closed", "resolved", "refund_initiate")
        assert sorted(lab.label for lab in conv.labels) == ["jeans", "refund"]
        assert conv.attributes == {"csat": 5} and conv.message_count == 7
        messages = s.scalars(select(Message).where(Message.conversation_id == conv.id).order_by(Message.seq)).all()
        assert [m.seq for m in messages] == list(range(1, 8))
        verify = messages[3]
        assert (verify.kind, verify.role, verify.action) == ("action", "agent", "verify-identity")
        assert verify.action_values["order_id"] == "ord-88121"
        customer = s.get(Customer, conv.customer_id)
        # the customer's own contact fields are the customer record, stored as given
        assert (customer.external_id, customer.email, customer.tier) == ("cust-501", "maria.lopez@example.com", "gold")
        order = s.scalar(select(CustomerRecord).where(CustomerRecord.external_id == "ord-88121"))
        assert (order.customer_id, order.amount, order.currency) == (customer.id, 94.0, "USD")
        # one source record set the source explicitly
        assert s.scalar(select(Conversation.source).where(Conversation.external_id == "c-1005")) == "phone-log"


def test_texts_and_action_values_are_redacted(store, tenant):
    do_import(store, tenant, "jsonl", FIXTURE)
    with store.session() as s:
        texts = s.scalars(select(Message.text)).all()
        values = s.scalars(select(Message.action_values)).all()
    blob = json.dumps([texts, values])
    assert "maria.lopez@example.com" not in blob
    assert any("[EMAIL]" in t for t in texts)
    assert any("[EMAIL]" in json.dumps(v) for v in values)


def test_redaction_off_keeps_texts_as_written(store, tenant):
    with store.session() as s:
        s.get(Tenant, tenant).settings = {"redact_pii": False}
    do_import(store, tenant, "jsonl", FIXTURE)
    with store.session() as s:
        assert "Sure, it's maria.lopez@example.com" in s.scalars(select(Message.text)).all()


def test_reimport_changes_nothing(store, tenant):
    do_import(store, tenant, "jsonl", FIXTURE)
    before = dump(store, tenant, bookkeeping=True)
    again = do_import(store, tenant, "jsonl", FIXTURE)
    assert counts(again) == (0, 0, 5, 0) and again.messages == 0
    assert dump(store, tenant, bookkeeping=True) == before


def test_changed_record_updates_in_place(store, tenant, tmp_path):
    do_import(store, tenant, "jsonl", FIXTURE)
    with store.session() as s:
        ids = dict(s.execute(select(Conversation.external_id, Conversation.id)).all())
    records = lines()
    records[1]["outcome"] = "resolved"
    records[1]["entries"].append({"role": "agent", "text": "The trace found it: delivery tomorrow.",
                                  "time": "2026-08-02T09:00:00Z"})
    records[2]["labels"] = ["login"]
    records[0]["customer"]["tier"] = "platinum"
    changed = tmp_path / "changed.jsonl"
    write(changed, records)
    summary = do_import(store, tenant, "jsonl", changed)
    assert counts(summary) == (0, 2, 3, 0)
    with store.session() as s:
        conv = s.scalar(select(Conversation).where(Conversation.external_id == "c-1002"))
        assert conv.id == ids["c-1002"] and conv.outcome == "resolved" and conv.message_count == 5
        assert s.scalar(select(func.count()).select_from(Message).where(Message.conversation_id == conv.id)) == 5
        labelled = s.scalar(select(Conversation).where(Conversation.external_id == "c-1003"))
        assert [lab.label for lab in labelled.labels] == ["login"]
        assert s.scalar(select(Customer.tier).where(Customer.external_id == "cust-501")) == "platinum"
        assert s.scalar(select(func.count()).select_from(Conversation)) == 5


def test_malformed_records_are_rejected_with_line_numbers(store, tenant, tmp_path):
    records = lines()
    bad = [records[0], "{not json", {"id": "c-9", "entries": [{"role": "bot", "text": "hi"}]}, records[1],
           {"id": "c-10", "entires": []}, {"id": "c-11", "entries": [{"role": "customer", "text": "x", "time": "soon"}]},
           "[1, 2]", records[2]]
    path = tmp_path / "bad.jsonl"
    write(path, bad)
    summary = do_import(store, tenant, "jsonl", path)
    assert counts(summary) == (3, 0, 0, 5)
    reasons = dict(r.split(": ", 1) for r in summary.rejections)
    assert set(reasons) == {"line 2", "line 3", "line 5", "line 6", "line 7"}
    assert "invalid JSON" in reasons["line 2"]
    assert reasons["line 3"].startswith("entries.0.role")
    assert "entires" in reasons["line 5"]
    assert reasons["line 6"].startswith("entries.0.time")
    assert "JSON object" in reasons["line 7"]


def test_strict_aborts_with_nothing_written(store, tenant, tmp_path):
    path = tmp_path / "bad.jsonl"
    write(path, [*lines(), {"id": "c-9", "status": "done", "entries": []}])
    summary = do_import(store, tenant, "jsonl", path, strict=True)
    assert summary.aborted and summary.rejected == 1 and summary.created == 0
    assert summary.rejections[0].startswith("line 6: status")
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Conversation)) == 0
        assert s.scalar(select(func.count()).select_from(Customer)) == 0
    ok = do_import(store, tenant, "jsonl", FIXTURE, strict=True)
    assert counts(ok) == (5, 0, 0, 0) and not ok.aborted


def test_same_conversation_twice_in_one_file_ends_as_the_last(store, tenant, tmp_path):
    first, *_ = lines()
    later = json.loads(json.dumps(first))
    later["outcome"] = "escalated"
    path = tmp_path / "twice.jsonl"
    write(path, [first, later])
    assert counts(do_import(store, tenant, "jsonl", path)) == (1, 1, 0, 0)
    with store.session() as s:
        assert s.scalar(select(Conversation.outcome)) == "escalated"


def test_records_in_memory_import_the_same_way(store, tenant, workspace):
    """The demo generator's path: parsed canonical records, no file."""
    summary = import_records(store.sessionmaker, tenant_id=tenant, records=lines(), source="demo")
    assert counts(summary) == (5, 0, 0, 0)
    again = import_records(store.sessionmaker, tenant_id=tenant, records=iter(lines()), source="demo")
    assert counts(again) == (0, 0, 5, 0)
    with store.session() as s:
        assert sorted(s.scalars(select(Conversation.source)).all()) == ["demo"] * 4 + ["phone-log"]
    bad = import_records(store.sessionmaker, tenant_id=tenant, records=[{"id": ""}], source="demo", strict=True)
    assert bad.aborted and bad.rejections[0].startswith("record 1: id")


def test_tenants_do_not_share_imported_rows(store, workspace):
    do_import(store, workspace.tenant_id, "jsonl", FIXTURE)
    summary = do_import(store, workspace.other_tenant_id, "jsonl", FIXTURE)
    assert counts(summary) == (5, 0, 0, 0)
    a, b = dump(store, workspace.tenant_id), dump(store, workspace.other_tenant_id)
    assert a == b and len(a["conversations"]) == 5


def test_unknown_source_lists_the_known_ones():
    with pytest.raises(InvalidInput, match="choose one of: abcd, abcd-guidelines, abcd-kb, chatwoot, csv"):
        get_importer("freshdesk")


def test_missing_file_and_directory_are_clear_errors(store, tenant, tmp_path):
    with pytest.raises(InvalidInput, match="no such file"):
        do_import(store, tenant, "jsonl", tmp_path / "nope.jsonl")
    with pytest.raises(InvalidInput, match="is a directory"):
        do_import(store, tenant, "jsonl", tmp_path)


def test_agent_with_a_signed_up_users_email_is_that_user(store, workspace, tmp_path):
    record = {"id": "c-1", "agent": {"id": "zd-77", "name": "Agent User", "email": "agent@acme.test"},
              "entries": [{"role": "customer", "text": "Hello?"}]}
    path = tmp_path / "one.jsonl"
    write(path, [record])
    do_import(store, workspace.tenant_id, "jsonl", path)
    with store.session() as s:
        assert s.scalar(select(Conversation.agent_id)) == workspace.user_ids["agent"]
        assert s.get(User, workspace.user_ids["agent"]).external_id == "zd-77"
    record["id"], record["agent"]["id"] = "c-2", "zd-78"  # another source id with the same e-mail: a new user
    write(path, [record])
    do_import(store, workspace.tenant_id, "jsonl", path)
    with store.session() as s:
        other = s.scalar(select(Conversation.agent_id).where(Conversation.external_id == "c-2"))
        assert other != workspace.user_ids["agent"]
        assert s.get(User, other).email is None


def test_values_postgresql_would_refuse_never_reach_a_batch(store, tenant, tmp_path):
    """One such value would fail its whole batch on PostgreSQL: it is cleaned or rejected up front."""
    path = tmp_path / "edge.jsonl"
    write(path, [
        {"id": "nul", "entries": [{"role": "customer", "text": "attachment\u0000 text"}]},
        {"id": "big", "customer": {"id": "k", "records": [{"id": "o-1", "amount": 1e12}]}},
        '{"id": "nan", "attributes": {"score": NaN}}',
        {"id": "long-action", "entries": [{"action": "x" * 65}]},
    ])
    summary = do_import(store, tenant, "jsonl", path)
    assert counts(summary) == (1, 0, 0, 3)
    assert [r.split(":")[0] for r in summary.rejections] == ["line 2", "line 3", "line 4"]
    assert "amount" in summary.rejections[0] and "NaN" in summary.rejections[1]
    with store.session() as s:
        assert s.scalar(select(Message.text)) == "attachment text"
