"""A conversation as the scorers read it: the conversation read model, plus what only scoring asks of it.

`Turn` and `Transcript` are `deskmate.conversations.transcript`'s (plain turns, the customer's
sentiment per message computed once however many scorers read it, timing). Scorers load them
with `with_outcome=False`: `Conversation.outcome` is what the scorers are judged against.
"""

from __future__ import annotations

from collections.abc import Sequence

from deskmate.conversations.transcript import Transcript, Turn
from deskmate.outcomes.language import words

__all__ = ["Transcript", "Turn", "repeated_customer_turns"]


def repeated_customer_turns(turns: Sequence[Turn], threshold: float = 0.6) -> list[Turn]:
    """Customer messages that restate an earlier one (word overlap), i.e. the customer had to say it twice."""
    seen: list[set[str]] = []
    repeats: list[Turn] = []
    for t in turns:
        bag = {w for w in words(t.text) if len(w) > 2}
        if len(bag) >= 4 and any(len(bag & prev) / len(bag | prev) >= threshold for prev in seen):
            repeats.append(t)
        seen.append(bag)
    return repeats
