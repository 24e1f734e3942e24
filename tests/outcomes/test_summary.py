"""Post-contact summary: the customer's need, actions with values, outcome and promises, from the transcript."""

from deskmate.outcomes.summary import (
    extractive_text,
    generated_text,
    post_contact_summary,
)
from tests.outcomes.factory import HAPPY_REFUND, transcript


def test_summary_fields_and_text():
    t = transcript([("c", "Hello!")] + HAPPY_REFUND)
    s = post_contact_summary(t, reason="refund_initiate", outcome="resolved", probability=0.93)
    assert s["customer_need"]["text"].startswith("I want a refund for my order")
    assert [a["action"] for a in s["actions"]] == ["pull-up-account", "verify-identity", "validate-purchase", "offer-refund"]
    assert s["actions"][3]["values"] == {"amount": 94.0, "refund_method": "card"}
    assert any("5-7 business days" in f["text"] for f in s["follow_ups"])
    text = extractive_text(s)
    assert "refund initiate" in text and "offer-refund (amount=94.0, refund_method=card)" in text
    assert "resolved (93%)" in text and "5-7 business days" in text


def test_generation_backend_rephrases_and_falls_back():
    s = post_contact_summary(transcript(HAPPY_REFUND), reason="refund_initiate", outcome="resolved", probability=0.9)
    prompts = []
    assert generated_text(s, lambda system, user: prompts.append(user) or "Refunded $94 to the card.") == \
        "Refunded $94 to the card."
    assert prompts == [extractive_text(s)]

    def broken(_system, _user):
        raise ConnectionError("backend down")

    assert generated_text(s, broken) is None
    assert generated_text(s, lambda system, user: "   ") is None
