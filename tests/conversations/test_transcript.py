"""The conversation read model: the bulk loader (tenant scope, filters, order, customers, outcome) and procedure progress."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from deskmate.conversations.transcript import (
    Transcript,
    Turn,
    conversation_ids,
    load_transcripts,
    load_turns,
    procedure_progress,
)

T0 = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)


# ---- procedure progress ------------------------------------------------------------------


def test_progress_marks_done_skipped_next_and_left():
    p = procedure_progress(["pull-up-account", "verify-identity", "offer-refund", "notify-team"],
                           ["pull-up-account", "offer-refund"])
    assert p.states == ("done", "skipped", "done", "left")
    assert p.checklist == [("pull-up-account", "done"), ("verify-identity", "next"), ("offer-refund", "done"),
                           ("notify-team", "left")]
    assert p.next == "verify-identity" and p.skipped == ["verify-identity"]
    assert p.share == 0.5 and not p.complete and p.in_order
    assert (p.reached, p.stalled_at) == (1, "verify-identity")
    assert p.out_of_order() == [(2, 1)]  # offer-refund done before verify-identity was


def test_progress_complete_in_order_and_out_of_order():
    done = procedure_progress(["a", "b"], ["a", "x", "b"])
    assert done.complete and done.in_order and done.next is None and done.stalled_at is None
    assert done.checklist == [("a", "done"), ("b", "done")]
    swapped = procedure_progress(["a", "b"], ["b", "a"])
    assert swapped.complete and not swapped.in_order and swapped.out_of_order() == [(1, 0)]
    # In order, "a" then "b" is found only up to "a": b was taken before a, never after.
    assert (swapped.reached, swapped.stalled_at) == (1, "b")
    # A later repeat of "b" counts for reaching in order, not for the first-occurrence order.
    redone = procedure_progress(["a", "b"], ["b", "a", "b"])
    assert redone.reached == 2 and not redone.in_order


def test_progress_repeated_step_each_or_first():
    steps, taken = ["a", "b", "a"], ["a", "b"]
    each = procedure_progress(steps, taken)  # assist's checklist: the second "a" needs a second action
    assert each.states == ("done", "done", "left") and each.next == "a" and not each.complete
    first = procedure_progress(steps, taken, repeats="first")  # outcomes: one "a" does for both
    assert first.states == ("done", "done", "done") and first.complete and first.share == 1.0
    with pytest.raises(ValueError):
        procedure_progress(steps, taken, repeats="twice")


def test_progress_without_steps():
    p = procedure_progress([], ["a"])
    assert p.checklist == [] and p.next is None and p.share == 0.0 and not p.complete and p.in_order


def test_transcript_views_and_timing():
    turns = [Turn(1, "customer", "text", "my parcel never came", at=T0),
             Turn(2, "agent", "action", action="pull-up-account", at=T0 + timedelta(seconds=30)),
             Turn(3, "agent", "text", "Found it, resending now", at=T0 + timedelta(seconds=90)),
             Turn(4, "system", "text", "  ", at=T0 + timedelta(seconds=95))]
    t = Transcript(turns, conversation_id=7, started_at=T0, ended_at=T0 + timedelta(seconds=300))
    assert t.id == 7 and t.actions == ["pull-up-account"]
    assert [x.seq for x in t.customer_turns] == [1] and [x.seq for x in t.text_turns] == [1, 3]
    assert t.handle_seconds == 300.0 and t.silence_after_last() == 205.0 and t.agent_wait_seconds() == [30.0]
    with pytest.raises(AttributeError):
        t.reason = "changed"  # plain frozen values
    assert Turn(1, "agent", "text", "hi", vector=[1.0]) == Turn(1, "agent", "text", "hi")  # the vector is not data


# ---- loading -------------------------------------------------------------------------------


@pytest.fixture
def history(store, workspace):
    from deskmate.conversations.models import Conversation, Message
    from deskmate.customers.models import Customer, CustomerRecord

    with store.session() as s:
        ada = Customer(tenant_id=workspace.tenant_id, external_id="cust-ada", name="Ada Lovelace", tier="gold")
        s.add(ada)
        s.flush()
        s.add(CustomerRecord(tenant_id=workspace.tenant_id, customer_id=ada.id, kind="order", external_id="ORD-1",
                             status="shipped", amount=42.0, currency="EUR", attributes={"products": ["Tote"]}))
        ids = {}
        for name, tenant, status, outcome, day, customer in (
            ("late", workspace.tenant_id, "closed", "resolved", 3, ada.id),
            ("early", workspace.tenant_id, "closed", "escalated", 1, None),
            ("open", workspace.tenant_id, "open", None, 2, ada.id),
            ("theirs", workspace.other_tenant_id, "closed", "resolved", 2, None),
        ):
            c = Conversation(tenant_id=tenant, source="api", external_id=name, status=status, outcome=outcome,
                             reason="refund", started_at=T0 + timedelta(days=day), customer_id=customer,
                             agent_id=workspace.user_ids["agent"] if tenant == workspace.tenant_id else None)
            s.add(c)
            s.flush()
            ids[name] = c.id
            rows = [("customer", "text", f"hello from {name}", None), ("agent", "action", "", "pull-up-account"),
                    ("agent", "text", "done", None)]
            for seq, (role, kind, text, action) in enumerate(rows, 1):
                s.add(Message(tenant_id=tenant, conversation_id=c.id, seq=seq, role=role, kind=kind, text=text,
                              action=action, action_values={"n": seq} if action else {},
                              created_at=T0 + timedelta(days=day, seconds=10 * seq)))
    return ids


def test_loader_is_tenant_scoped_ordered_and_filtered(store, workspace, history):
    with store.session() as s:
        tid = workspace.tenant_id
        assert conversation_ids(s, tid) == [history["early"], history["open"], history["late"]]
        assert conversation_ids(s, tid, status="closed") == [history["early"], history["late"]]
        assert conversation_ids(s, tid, since=T0 + timedelta(days=2), until=T0 + timedelta(days=3)) == [history["open"]]
        # In the order asked; another tenant's id and an unknown id are left out.
        asked = [history["late"], history["theirs"], 999999, history["early"]]
        assert [t.external_id for t in load_transcripts(s, tid, asked)] == ["late", "early"]
        assert [t.external_id for t in load_transcripts(s, tid, asked, status="closed", since=T0 + timedelta(days=2))] == [
            "late"]
        assert [t.external_id for t in load_transcripts(s, tid, status="closed")] == ["early", "late"]


def test_loader_reads_turns_customer_agent_and_outcome(store, workspace, history):
    with store.session() as s:
        late, early = load_transcripts(s, workspace.tenant_id, [history["late"], history["early"]], customer_records=True)
        assert [(x.seq, x.role, x.kind, x.action) for x in late.turns] == [
            (1, "customer", "text", None), (2, "agent", "action", "pull-up-account"), (3, "agent", "text", None)]
        assert late.turns[1].values == {"n": 2} and late.turns[0].text == "hello from late"
        assert late.turns[2].at.replace(tzinfo=timezone.utc) == (T0 + timedelta(days=3, seconds=30))
        assert late.actions == ["pull-up-account"] and late.outcome == "resolved" and late.status == "closed"
        assert late.agent_name == "Agent User" and late.customer.name == "Ada Lovelace" and late.customer.tier == "gold"
        assert [r["external_id"] for r in late.customer.records] == ["ORD-1"]
        assert early.customer.id is None and early.customer.records == []
        # Without records the customer is still there; scorers load without the outcome they are judged by.
        plain = load_transcripts(s, workspace.tenant_id, [history["late"]], with_outcome=False)[0]
        assert plain.customer.tier == "gold" and plain.customer.records == [] and plain.outcome is None


def test_load_turns_reads_part_of_one_conversation(store, workspace, history):
    with store.session() as s:
        cid = history["late"]
        assert [t.seq for t in load_turns(s, tenant_id=workspace.tenant_id, conversation_id=cid, after_seq=1)] == [2, 3]
        assert [t.seq for t in load_turns(s, tenant_id=workspace.tenant_id, conversation_id=cid, before_seq=3)] == [1, 2]
        assert [t.seq for t in load_turns(s, tenant_id=workspace.tenant_id, conversation_id=cid, last=1)] == [3]
        assert load_turns(s, tenant_id=workspace.other_tenant_id, conversation_id=cid) == []
