"""Chatwoot webhook events accumulate across lines and files, whatever order the files arrive in."""

from __future__ import annotations

from sqlalchemy import select

from deskmate.accounts.models import Tenant, User
from deskmate.conversations.models import Conversation, Message, MessageCreate
from deskmate.conversations.service import append_message
from deskmate.customers.models import Customer

from .conftest import DATA, counts, do_import, dump

DAY1 = DATA / "chatwoot_events_day1.jsonl"
DAY2 = DATA / "chatwoot_events_day2.jsonl"


def messages_of(session, external_id: str) -> list[tuple[str, str]]:
    conv = session.scalar(select(Conversation).where(Conversation.external_id == external_id))
    rows = session.execute(select(Message.role, Message.text).where(Message.conversation_id == conv.id).order_by(Message.seq))
    return [tuple(r) for r in rows]


def test_events_accumulate_across_files(store, tenant):
    first = do_import(store, tenant, "chatwoot", DAY1)
    assert counts(first) == (2, 0, 0, 0)
    with store.session() as s:
        conv = s.scalar(select(Conversation).where(Conversation.external_id == "812"))
        assert (conv.status, conv.channel, conv.message_count) == ("open", "chat", 3)
        assert conv.started_at.isoformat() == "2026-08-08T10:00:00+00:00"  # conversation_created's time
        # the private note stays out; messages are in time order even when the file is not
        assert [role for role, _ in messages_of(s, "812")] == ["customer", "agent", "agent"]
        assert (s.get(Customer, conv.customer_id).email, s.get(User, conv.agent_id).name) == (
            "lucas.moreau@example.fr", "Nadia Ortiz")
        assert s.scalar(select(Conversation.channel).where(Conversation.external_id == "813")) == "email"
    second = do_import(store, tenant, "chatwoot", DAY2)
    assert counts(second) == (0, 2, 0, 1)
    assert second.rejections == ["line 4: message_created without the message id (needed to import it only once)"]
    with store.session() as s:
        conv = s.scalar(select(Conversation).where(Conversation.external_id == "812"))
        assert (conv.status, conv.outcome, conv.message_count) == ("closed", "resolved", 4)
        assert conv.ended_at.isoformat() == "2026-08-08T10:10:00+00:00"
        assert [lab.label for lab in conv.labels] == ["promo"]
        assert messages_of(s, "812")[-1] == ("customer", "Merci, that worked!")
        assert [role for role, _ in messages_of(s, "813")] == ["customer", "agent"]


def test_reimporting_the_same_events_changes_nothing(store, tenant):
    do_import(store, tenant, "chatwoot", DAY1)
    do_import(store, tenant, "chatwoot", DAY2)
    before = dump(store, tenant, bookkeeping=True)
    assert counts(do_import(store, tenant, "chatwoot", DAY1)) == (0, 0, 2, 0)
    assert counts(do_import(store, tenant, "chatwoot", DAY2)) == (0, 0, 2, 1)
    assert dump(store, tenant, bookkeeping=True) == before


def test_file_order_does_not_matter(store, workspace):
    """An older file imported last must not reopen a resolved conversation or reorder its messages."""
    do_import(store, workspace.tenant_id, "chatwoot", DAY1)
    do_import(store, workspace.tenant_id, "chatwoot", DAY2)
    do_import(store, workspace.other_tenant_id, "chatwoot", DAY2)
    do_import(store, workspace.other_tenant_id, "chatwoot", DAY1)
    assert dump(store, workspace.tenant_id) == dump(store, workspace.other_tenant_id)


def test_a_newer_reopening_wins(store, tenant, tmp_path):
    do_import(store, tenant, "chatwoot", DAY1)
    do_import(store, tenant, "chatwoot", DAY2)
    reopened = tmp_path / "day3.jsonl"
    reopened.write_text(
        '{"event": "message_created", "id": 90020, "content": "Sorry, one more question about my order.", '
        '"message_type": "incoming", "created_at": "2026-08-09T08:00:00Z", '
        '"conversation": {"id": 812, "status": "open"}, "sender": {"id": 4401, "type": "contact"}}\n')
    assert counts(do_import(store, tenant, "chatwoot", reopened)) == (0, 1, 0, 0)
    with store.session() as s:
        conv = s.scalar(select(Conversation).where(Conversation.external_id == "812"))
        assert (conv.status, conv.outcome, conv.ended_at, conv.message_count) == ("open", None, None, 5)
    assert counts(do_import(store, tenant, "chatwoot", DAY2)) == (0, 0, 2, 1)  # the old resolution stays old


def test_messages_added_through_the_api_survive_new_events(store, tenant):
    do_import(store, tenant, "chatwoot", DAY1)
    with store.session() as s:
        conv = s.scalar(select(Conversation).where(Conversation.external_id == "812"))
        append_message(s, tenant=s.get(Tenant, tenant), conversation=conv,
                       data=MessageCreate(role="agent", text="Noted from the Deskmate side panel."))
    do_import(store, tenant, "chatwoot", DAY2)
    with store.session() as s:
        texts = [text for _, text in messages_of(s, "812")]
    assert "Noted from the Deskmate side panel." in texts and "Merci, that worked!" in texts and len(texts) == 5
