"""Guardrails: no other customer's personal data, no forbidden promise, required disclaimers added."""

import pytest

from deskmate.assist.guardrails import Guardrails
from deskmate.assist.state import CustomerView
from deskmate.errors import InvalidInput

ANNA = CustomerView(id=1, external_id="cust-1", name="Anna Berg", email="anna.berg@example.com",
                    phone="+1 415 555 0101", records=[{"kind": "order", "external_id": "ORD-1001", "amount": 40.0}])


def test_another_customers_email_is_replaced_or_the_reply_dropped():
    rails = Guardrails({}, known_names=["Anna Berg", "Bruno Diaz"])
    out = rails.check("I have sent the label to bruno.diaz@example.com.", ANNA)
    assert out.text == "I have sent the label to anna.berg@example.com." and out.reasons
    nobody = CustomerView(id=2, name="Cleo Park")  # no e-mail on file: nothing to re-fill with
    assert rails.check("I have sent the label to bruno.diaz@example.com.", nobody).text is None


def test_other_identifiers_and_names_are_refilled_cards_dropped():
    rails = Guardrails({}, known_names=["Anna Berg", "Bruno Diaz"])
    out = rails.check("Bruno, your order ORD-2002 is on its way; call +1 415 555 0199 if not.", ANNA, agent_name="Sam Lee")
    assert "Bruno" not in out.text and "ORD-2002" not in out.text and "0199" not in out.text
    assert "Anna" in out.text and "ORD-1001" in out.text
    assert rails.check("Your card 4111 1111 1111 1111 was charged.", ANNA).text is None
    assert rails.check("Thanks Anna, this is Sam.", ANNA, agent_name="Sam Lee").text == "Thanks Anna, this is Sam."


def test_forbidden_phrases_and_required_disclaimers():
    rails = Guardrails({"forbidden_phrases": ["calm down", "guarantee"],
                        "required_disclaimers": [{"when": r"\brefund", "disclaimer": "Refunds take 5-7 business days."}]})
    assert rails.check("Please calm down.", ANNA).text is None
    assert rails.check("We GUARANTEE delivery.", ANNA).text is None
    assert rails.check("Guaranteed delivery is extra.", ANNA).text == "Guaranteed delivery is extra."  # whole words only
    out = rails.check("Your refund is on its way.", ANNA)
    assert out.text == "Your refund is on its way. Refunds take 5-7 business days."
    assert rails.check(out.text, ANNA).text == out.text  # never added twice


def test_bad_policy_is_a_clear_error():
    with pytest.raises(InvalidInput, match="required_disclaimers"):
        Guardrails({"required_disclaimers": [{"when": "("}]})
    with pytest.raises(InvalidInput, match="invalid regex"):
        Guardrails({"required_disclaimers": [{"when": "(", "disclaimer": "x"}]})


def test_engine_never_suggests_another_customers_email(demo):
    """End to end: a reply bank holding someone else's e-mail, in the top suggestion's place."""
    from deskmate.assist.bundle import load_models
    from deskmate.assist.engine import AssistEngine
    from deskmate.assist.service import load_procedures
    from deskmate.assist.state import Turn
    from deskmate.accounts.models import Tenant
    from tests.assist.conftest import a_customer

    models = load_models(demo.settings, demo.tenant)
    leaked = "We emailed the label to zed.quinn@elsewhere.example, please check."
    original = (list(models.replies.templates_), models.replies.vectors_.copy())
    models.replies.templates_ = [leaked] * len(models.replies.templates_)  # every candidate carries the leak
    try:
        with demo.session() as s:
            tenant = s.get(Tenant, demo.tenant_id)
            engine = AssistEngine(demo.settings, tenant_id=demo.tenant_id, tenant_slug=demo.tenant,
                                  tenant_settings=tenant.settings, models=models, procedures=load_procedures(s, demo.tenant_id))
            from deskmate.customers.models import Customer
            from sqlalchemy import select

            external_id, name, email = a_customer(demo)
            customer = s.scalar(select(Customer).where(Customer.external_id == external_id))
            state = engine.start(s, conversation_id=10**6, customer_id=customer.id, agent_name="Sam Lee", reason=None,
                                 started_at=None)
            update = engine.process(s, state, Turn(1, "customer", "text", "where is my return label?", None, {}, None))
        assert update.replies, "the leaked template is re-filled with this customer's e-mail, not dropped"
        for reply in update.replies:
            assert "zed.quinn" not in reply.text and email in reply.text
    finally:
        models.replies.templates_, models.replies.vectors_ = original
