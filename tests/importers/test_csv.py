"""CSV with one message per row."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from deskmate.accounts.models import User
from deskmate.conversations.models import Conversation, Message
from deskmate.customers.models import Customer
from deskmate.errors import InvalidInput

from .conftest import DATA, counts, do_import, dump

FIXTURE = DATA / "messages.csv"


def test_rows_group_into_conversations(store, tenant):
    summary = do_import(store, tenant, "csv", FIXTURE)
    assert counts(summary) == (3, 0, 0, 0) and summary.messages == 9
    with store.session() as s:
        conv = s.scalar(select(Conversation).where(Conversation.external_id == "T-7001"))
        assert (conv.status, conv.outcome, conv.reason, conv.channel) == (
            "closed", "resolved", "mistimed_billing_already_returned", "chat")
        assert conv.ended_at.isoformat() == "2026-07-14T09:07:30+00:00"  # closed with its last row
        messages = s.scalars(select(Message).where(Message.conversation_id == conv.id).order_by(Message.seq)).all()
        assert [(m.role, m.kind, m.action) for m in messages] == [
            ("customer", "text", None), ("agent", "text", None), ("agent", "action", "validate-purchase"),
            ("agent", "action", "offer-refund"), ("customer", "text", None)]
        assert messages[3].action_values == {"amount": 38.9}
        assert "[NAME]" in messages[1].text  # "Hi Lena" with the customer's name redacted
        customer = s.get(Customer, conv.customer_id)
        assert (customer.external_id, customer.email) == ("C-310", "lena.fischer@example.net")
        assert s.get(User, conv.agent_id).name == "Jordan Park"
        # T-7002's last row comes after T-7003 in the file: it still belongs to T-7002
        late = s.scalar(select(Conversation).where(Conversation.external_id == "T-7002"))
        assert late.message_count == 3 and late.status == "closed"


def test_reimport_changes_nothing(store, tenant):
    do_import(store, tenant, "csv", FIXTURE)
    before = dump(store, tenant, bookkeeping=True)
    assert counts(do_import(store, tenant, "csv", FIXTURE)) == (0, 0, 3, 0)
    assert dump(store, tenant, bookkeeping=True) == before


def test_a_bad_row_rejects_its_conversation_with_the_line(store, tenant, tmp_path):
    text = FIXTURE.read_text().splitlines()
    text[2] = text[2].replace("agent", "robot", 1)  # line 3: T-7001's second row
    text.append('T-7004,customer,"refund please",yesterday at noon,,,,,,,,,,,')
    text.append('T-7005,agent,,2026-07-16T10:00:00Z,,,,,,,update-order,{not json},,,')
    text.append(',customer,orphan row,2026-07-16T10:00:00Z,,,,,,,,,,,')
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(text) + "\n")
    summary = do_import(store, tenant, "csv", path)
    assert counts(summary) == (2, 0, 0, 4)
    reasons = dict(r.split(": ", 1) for r in summary.rejections)
    assert reasons["line 3"].startswith("role:") and "T-7001" in reasons["line 3"]
    assert reasons["line 11"].startswith("time:")
    assert reasons["line 12"].startswith("action_values is not JSON")
    assert reasons["line 13"] == "conversation_id is empty"
    with store.session() as s:
        assert sorted(s.scalars(select(Conversation.external_id))) == ["T-7002", "T-7003"]


def test_semicolon_separated_export(store, tenant, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("conversation_id;role;text;time\nX-1;customer;Hello, is anyone there?;2026-07-01T10:00:00Z\n"
                    "X-1;agent;Yes, how can I help?;2026-07-01T10:00:30Z\n")
    assert counts(do_import(store, tenant, "csv", path)) == (1, 0, 0, 0)


def test_missing_columns_is_a_file_error(store, tenant, tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("id,speaker,message\n1,customer,hi\n")
    with pytest.raises(InvalidInput, match="lacks column"):
        do_import(store, tenant, "csv", path)
