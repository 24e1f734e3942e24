"""Scorecard criteria on hand-built conversations where the right verdict is known."""

import pytest

from deskmate.errors import InvalidInput
from deskmate.outcomes.context import ScoringContext
from deskmate.outcomes.scorecard import CRITERIA, score_criteria, scorecard_config
from tests.outcomes.factory import HAPPY_REFUND, REFUND, transcript


def verdict(key, script, **ctx):
    t = transcript(script, reason="refund_initiate", status=ctx.pop("status", "closed"))
    return CRITERIA[key].check(ScoringContext(transcript=t, **ctx))


def test_refund_before_verification_fails_policy_adherence_with_the_refund_as_evidence():
    script = [
        ("c", "I want my money back for order 1234"),
        ("act", "pull-up-account", {"customer_name": "Ann Lee"}),
        ("act", "offer-refund", {"amount": 94.0}),  # seq 3: before anyone checked who this is
        ("act", "verify-identity", {"order_id": "1234"}),
        ("act", "validate-purchase", {"order_id": "1234"}),
        ("a", "Done, the refund is on its way. Anything else I can help with?"),
    ]
    result, note, evidence = verdict("policy_adherence", script, required_actions=REFUND)
    assert result == "fail"
    assert "offer-refund before verify-identity (done later (seq 4))" in note
    assert [e.seq for e in evidence] == [3] and "offer-refund" in evidence[0].text


def test_procedure_in_order_passes_and_skipped_step_fails():
    result, note, evidence = verdict("policy_adherence", HAPPY_REFUND, required_actions=REFUND)
    assert result == "pass" and [e.seq for e in evidence] == [3, 5, 6]
    skipped = [x for x in HAPPY_REFUND if x[:2] != ("act", "verify-identity")]
    result, note, _ = verdict("policy_adherence", skipped, required_actions=REFUND)
    assert result == "fail" and "verify-identity (skipped)" in note


def test_missing_last_step_fails_when_the_agent_wrapped_up_but_not_when_the_customer_left():
    unfinished = [x for x in HAPPY_REFUND if x[:2] != ("act", "offer-refund")]
    result, note, evidence = verdict("policy_adherence", unfinished, required_actions=REFUND, predicted_outcome="resolved")
    assert result == "fail" and "never done: offer-refund" in note and evidence[0].seq == 11
    left = HAPPY_REFUND[:5]  # the customer stopped answering after verification
    result, note, _ = verdict("policy_adherence", left, required_actions=REFUND, predicted_outcome="abandoned")
    assert result == "pass" and "ended before: validate-purchase, offer-refund" in note


def test_no_procedure_is_not_applicable():
    assert verdict("policy_adherence", HAPPY_REFUND)[0] == "na"


def test_forbidden_phrases_default_tenant_list_and_opt_out():
    script = [("c", "my order is late!!"), ("a", "Please calm down, it will arrive."), ("a", "Anything else?")]
    result, note, evidence = verdict("forbidden_phrases", script)
    assert result == "fail" and evidence[0].seq == 2 and '"calm down"' in note
    assert verdict("forbidden_phrases", script, tenant_settings={"forbidden_phrases": ["guarantee"]})[0] == "pass"
    tenant = {"forbidden_phrases": ["it will arrive"]}
    assert verdict("forbidden_phrases", script, tenant_settings=tenant)[2][0].seq == 2
    assert verdict("forbidden_phrases", script, tenant_settings={"forbidden_phrases": []})[0] == "na"


def test_closing_needs_an_offer_of_more_help_or_a_farewell():
    result, _, evidence = verdict("closing", HAPPY_REFUND)
    assert result == "pass" and evidence[0].seq == 12
    abrupt = [("c", "where is my parcel?"), ("a", "It was delivered yesterday."), ("c", "ok")]
    result, _, evidence = verdict("closing", abrupt)
    assert result == "fail" and evidence[0].seq == 2
    assert verdict("closing", abrupt, status="open")[0] == "na"


def test_empathy_is_needed_once_the_customer_is_upset():
    cold = [("c", "This is ridiculous, my parcel is two weeks late and nobody helps!"), ("a", "Order number?")]
    result, _, evidence = verdict("empathy", cold)
    assert result == "fail" and evidence[0].seq == 1
    warm = cold[:1] + [("a", "I'm so sorry, I understand how frustrating that is. Let me check.")]
    result, _, evidence = verdict("empathy", warm)
    assert result == "pass" and evidence[0].seq == 2
    calm = [("c", "Hi, can I change my delivery address?"), ("a", "Sure, what's the new address?")]
    assert verdict("empathy", calm)[0] == "na"


def test_ownership_and_deflection():
    assert verdict("ownership", HAPPY_REFUND)[0] == "pass"
    deflect = [("c", "my card was charged twice"), ("a", "That's not my department, you'll have to call the bank.")]
    result, _, evidence = verdict("ownership", deflect)
    assert result == "fail" and evidence[0].seq == 2


def test_clarity_flags_a_run_on_sentence():
    run_on = " ".join(["and then the system will"] * 12) + " update."
    result, note, evidence = verdict("clarity", [("c", "how does it work?"), ("a", run_on)])
    assert result == "fail" and evidence[0].seq == 2 and "word sentence" in note
    assert verdict("clarity", HAPPY_REFUND)[0] == "pass"


ARTICLE = ("Refunds", "Refunds go back to the original payment method. Refunds take 5-7 business days to appear. "
                      "Items can be returned within 30 days of delivery.")


def test_knowledge_accuracy_compares_stated_figures_with_the_article():
    wrong = [("c", "how long do I have to return it?"), ("a", "You can return items within 60 days of delivery.")]
    result, note, evidence = verdict("knowledge_accuracy", wrong, articles=[ARTICLE])
    assert result == "fail" and evidence[0].seq == 2 and "30 days" in note
    right = [("c", "when will I see my refund?"), ("a", "Refunds take 5-7 business days to appear on your card.")]
    assert verdict("knowledge_accuracy", right, articles=[ARTICLE])[0] == "pass"
    # a figure about something the article does not cover is not checked
    other = [("c", "when?"), ("a", "Your order 1234 shipped 2 days ago.")]
    assert verdict("knowledge_accuracy", other, articles=[ARTICLE])[0] == "na"
    assert verdict("knowledge_accuracy", wrong)[0] == "na"


def test_required_disclaimers():
    tenant = {"required_disclaimers": ["this chat may be recorded"]}
    assert verdict("required_disclaimers", HAPPY_REFUND, tenant_settings=tenant)[0] == "fail"
    said = [("a", "Hi! This chat may be recorded for quality.")] + HAPPY_REFUND
    assert verdict("required_disclaimers", said, tenant_settings=tenant)[0] == "pass"
    assert verdict("required_disclaimers", HAPPY_REFUND)[0] == "na"


def test_tenant_scorecard_weights_and_validation():
    t = transcript([("c", "where is my parcel"), ("a", "Please calm down."), ("a", "Anything else I can help with?")],
                   reason="shipping")
    heavy = {"scorecard": [{"criterion": "forbidden_phrases", "weight": 9}, {"criterion": "closing", "weight": 1}]}
    score, results = score_criteria(ScoringContext(transcript=t, tenant_settings=heavy))
    assert [r.key for r in results] == ["forbidden_phrases", "closing"] and score == 10.0
    light = {"scorecard": [{"criterion": "forbidden_phrases", "weight": 1}, {"criterion": "closing", "weight": 9}]}
    assert score_criteria(ScoringContext(transcript=t, tenant_settings=light))[0] == 90.0
    assert len(scorecard_config({})) == len(CRITERIA)
    for bad in ([{"criterion": "speed"}], [{"criterion": "closing", "weight": -1}], [], "closing"):
        with pytest.raises(InvalidInput):
            scorecard_config({"scorecard": bad})


def test_a_stated_blocker_ends_the_procedure_without_a_violation():
    blocked = HAPPY_REFUND[:6] + [("a", "I'm sorry, this order was delivered 40 days ago, so it can't be refunded."),
                                  ("c", "ok thanks anyway"), ("a", "Thanks for contacting us. Take care!")]
    result, note, _ = verdict("policy_adherence", blocked, required_actions=REFUND, predicted_outcome="resolved")
    assert result == "pass" and "ended before: offer-refund" in note
