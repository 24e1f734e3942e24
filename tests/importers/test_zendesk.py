"""Zendesk tickets with comments: API page with sideloaded users, NDJSON, plain array."""

from __future__ import annotations

import json

from sqlalchemy import select

from deskmate.accounts.models import User
from deskmate.conversations.models import Conversation, Message
from deskmate.customers.models import Customer

from .conftest import DATA, counts, do_import, dump


def test_api_page_with_sideloaded_users(store, tenant):
    summary = do_import(store, tenant, "zendesk", DATA / "zendesk_tickets.json")
    assert counts(summary) == (3, 0, 0, 0)
    with store.session() as s:
        solved = s.scalar(select(Conversation).where(Conversation.external_id == "35436"))
        assert (solved.source, solved.status, solved.outcome, solved.channel) == ("zendesk", "closed", "resolved", "email")
        assert solved.subject == "Refund for damaged boots"
        assert sorted(lab.label for lab in solved.labels) == ["damaged_item", "refund"]
        assert solved.ended_at.isoformat() == "2026-06-03T10:20:00+00:00"
        messages = s.scalars(select(Message).where(Message.conversation_id == solved.id).order_by(Message.seq)).all()
        # the private comment is an internal note, not part of the conversation
        assert [m.role for m in messages] == ["customer", "agent", "customer"]
        assert all("Internal" not in m.text for m in messages)
        assert "[NAME]" in messages[1].text  # "sorry to hear that, Daniel"
        customer = s.get(Customer, solved.customer_id)
        assert (customer.external_id, customer.name, customer.email) == ("20978392", "Daniel Novak", "daniel.novak@example.com")
        assert s.get(User, solved.agent_id).email == "alex.morgan@help.example.com"
        held = s.scalar(select(Conversation).where(Conversation.external_id == "35438"))
        assert (held.status, held.outcome, held.customer_id) == ("pending", None, solved.customer_id)


def test_ndjson_export_rejects_a_bad_ticket_by_line(store, tenant):
    summary = do_import(store, tenant, "zendesk", DATA / "zendesk_export.ndjson")
    assert counts(summary) == (2, 0, 0, 1)
    assert summary.rejections == [
        "line 3: status 'archived' is not a Zendesk status (new, open, pending, hold, solved, closed) (ticket 41003)"]
    with store.session() as s:
        ticket = s.scalar(select(Conversation).where(Conversation.external_id == "41001"))
        assert (ticket.status, ticket.outcome, ticket.channel) == ("closed", "resolved", "web")
        roles = s.scalars(select(Message.role).where(Message.conversation_id == ticket.id).order_by(Message.seq)).all()
        assert roles == ["customer", "agent"]


def test_array_of_tickets_and_a_later_export_updates(store, tenant, tmp_path):
    tickets = [json.loads(line) for line in (DATA / "zendesk_export.ndjson").read_text().splitlines()][:2]
    path = tmp_path / "tickets.json"
    path.write_text(json.dumps(tickets, indent=2))
    assert counts(do_import(store, tenant, "zendesk", path)) == (2, 0, 0, 0)
    before = dump(store, tenant, bookkeeping=True)
    assert counts(do_import(store, tenant, "zendesk", path)) == (0, 0, 2, 0)
    assert dump(store, tenant, bookkeeping=True) == before
    # the next export has the pending ticket solved, with the agent's reply
    tickets[1]["status"] = "solved"
    tickets[1]["updated_at"] = "2026-05-12T09:00:00Z"
    tickets[1]["comments"].append({"id": 9012, "author_id": 5002, "public": True,
                                   "plain_body": "Cancelled, you won't be billed again.", "created_at": "2026-05-12T08:59:00Z"})
    path.write_text("\n".join(json.dumps(t) for t in tickets))  # as NDJSON this time
    assert counts(do_import(store, tenant, "zendesk", path)) == (0, 1, 1, 0)
    with store.session() as s:
        ticket = s.scalar(select(Conversation).where(Conversation.external_id == "41002"))
        assert (ticket.status, ticket.outcome, ticket.message_count) == ("closed", "resolved", 3)
        assert ticket.attributes["source_message_ids"] == ["9010", "9011", "9012"]


def test_page_that_is_not_tickets(store, tenant, tmp_path):
    path = tmp_path / "users.json"
    path.write_text(json.dumps({"users": []}, indent=1))
    summary = do_import(store, tenant, "zendesk", path)
    assert summary.rejected == 1 and "expected" in summary.rejections[0]
