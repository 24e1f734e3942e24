"""Customer confidence on hand-built conversations: sentiment trajectory, effort, the 0-100 score."""

from deskmate.outcomes.confidence import (
    customer_effort,
    resolution_quality,
    sentiment_trajectory,
)
from tests.outcomes.factory import HAPPY_REFUND, transcript

ANGRY_THEN_THANKFUL = [
    ("c", "This is ridiculous! My parcel is two weeks late and nobody answers my emails!!"),
    ("a", "I'm so sorry about that. Let me check right away."),
    ("c", "Order 5512, it was supposed to come last Monday."),
    ("a", "I've found it: it was stuck at the depot. I've reshipped it with express delivery, it arrives tomorrow."),
    ("c", "Oh great, thank you so much, that's really helpful!"),
]


def test_angry_start_and_thankful_end_shifts_positive():
    tr = sentiment_trajectory(transcript(ANGRY_THEN_THANKFUL))
    assert tr.start < -0.3 and tr.end > 0.3
    assert tr.shift > 0.8 and not tr.falling
    assert tr.lowest_seq == 1 and tr.lowest == tr.start


def test_pleasant_start_and_angry_end_is_falling():
    script = [("c", "Hi! Thanks for the quick reply :)"), ("a", "Sorry, we can't do that."),
              ("c", "This is unacceptable, terrible service. I'm furious.")]
    tr = sentiment_trajectory(transcript(script))
    assert tr.shift < -0.8 and tr.falling and tr.lowest_seq == 3


def test_no_customer_words_gives_no_trajectory():
    tr = sentiment_trajectory(transcript([("a", "Hello?")]))
    assert tr.start is None and tr.shift is None


def test_effort_counts_repeats_transfers_and_waiting():
    script = [
        ("c", "My order 5512 never arrived and I need it for Friday"),
        ("a", "Could you give me the order number?", 600),  # the customer waited 10 minutes
        ("c", "I already told you, order 5512 never arrived"),
        ("a", "I'm transferring you to the shipping team."),
        ("s", "Sam joined the chat"),
        ("c", "My order 5512 never arrived and I need it for Friday please"),
    ]
    e = customer_effort(transcript(script))
    assert e.customer_messages == 3 and e.repeats == 2 and set(e.repeat_seqs) == {3, 6}
    assert e.transfers >= 1 and e.max_wait_seconds == 600.0
    easy = customer_effort(transcript(HAPPY_REFUND))
    assert easy.repeats == 0 and easy.transfers == 0 and easy.index < e.index


def test_resolution_quality_parts_add_up_and_move_the_right_way():
    happy = transcript(ANGRY_THEN_THANKFUL)
    tr, effort = sentiment_trajectory(happy), customer_effort(happy)
    score, parts = resolution_quality(p_resolved=0.9, reopened=False, trajectory=tr, effort=effort)
    assert 0 <= score <= 100 and abs(score - sum(p["points"] for p in parts.values())) < 0.3
    assert sum(p["max"] for p in parts.values()) == 100
    reopened, _ = resolution_quality(p_resolved=0.9, reopened=True, trajectory=tr, effort=effort)
    unresolved, _ = resolution_quality(p_resolved=0.1, reopened=False, trajectory=tr, effort=effort)
    assert reopened == score - 15 and unresolved < score
