"""Replies that answer the customer's last message: never ask for what is known, never close an open question.

Seen on the demo: right after a customer gave their e-mail, the first suggestion asked for it again,
the second asked for the name already on the context card, the third closed the conversation while
the customer was still waiting for an answer. Ranking by context similarity cannot see that, so the
engine demotes (never hides: the agent still sees them, last) replies that

- ask for a value this conversation already has (the card's name, e-mail, phone; an order or account
  the customer mentioned; an e-mail address in the customer's last message);
- close ("anything else?", "have a great day") while the customer's last message is not a thanks or
  a goodbye.
"""

from __future__ import annotations

import re

_ASK = re.compile(r"(?:what(?:'s| is| was)|could (?:you|i)|can (?:you|i)|may (?:i|you|we)|please|would you|"
                  r"(?:i|we)(?:'ll| will)? need|provide|confirm|share|send|verify|tell me|let me (?:know|have))"
                  r"[^.?!]{0,60}?\b(?:your|the)\s+(?:full\s+)?(e-?mail(?: address)?|name|phone(?: number)?|"
                  r"order (?:number|id)|account (?:number|id)|username)", re.I)
_KIND = {"email": "[EMAIL]", "e-mail": "[EMAIL]", "name": "[NAME]", "phone": "[PHONE]", "order": "[ORDER_ID]",
         "account": "[ACCOUNT_ID]", "username": "[ACCOUNT_ID]"}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+|\[EMAIL\]")
_CLOSING = re.compile(r"anything else|is there anything|other questions|have a (?:great|good|nice|lovely|wonderful) "
                      r"(?:day|evening|night|weekend|one)|goodbye|\bbye\b|take care|glad (?:i|we) could help", re.I)
_DONE = re.compile(r"\b(?:thanks?|thank you|thx|cheers|that'?s all|that is all|no,? (?:that'?s|thanks|nothing)|"
                   r"nothing else|bye|goodbye|perfect|great|awesome|all (?:set|good)|ok(?:ay)?|got it|sounds good|understood)\b", re.I)


def asks_for(template: str) -> set[str]:
    """The placeholders a reply asks the customer for ("what's your e-mail?" -> {"[EMAIL]"})."""
    out = set()
    for m in _ASK.finditer(template):
        word = m.group(1).lower().replace("e-mail", "email").split()[0]
        out.add(_KIND.get(word, f"[{word.upper()}]"))
    return out


def known_values(values: dict[str, str], last_customer_text: str) -> set[str]:
    """The placeholders this conversation can already fill, including an e-mail the customer just gave."""
    known = set(values)
    if "[FULL_NAME]" in known:
        known.add("[NAME]")
    if _EMAIL.search(last_customer_text or ""):
        known.add("[EMAIL]")
    return known


def penalty(template: str, known: set[str], customer_waiting: bool) -> int:
    """0 for a reply that answers; 1 asks for something known or closes while the customer waits."""
    if asks_for(template) & known:
        return 1
    if customer_waiting and _CLOSING.search(template):
        return 1
    return 0


def customer_waiting(turns) -> tuple[bool, str]:
    """(the last turn is the customer's and not a thanks/goodbye, that message's text)."""
    if not turns or turns[-1].role != "customer" or turns[-1].kind != "text":
        return False, ""
    text = turns[-1].text or ""
    return not _DONE.search(text), text
