"""Checks every suggested reply passes before an agent sees it.

- No personal data of anyone but this customer: an e-mail, phone, card, IBAN, national id,
  address, order or account id, or a known customer's name that is not this customer's is
  re-filled with this customer's value where one exists, else the reply is dropped.
- Tenant policy, from `tenant.settings`:
    forbidden_phrases     ["guarantee", "full refund no matter what", ...]  (a reply containing one is dropped)
    required_disclaimers  [{"when": "refund", "disclaimer": "Refunds take 5-7 business days."}]
  Phrases match case-insensitively on word boundaries; `when` is a case-insensitive regex.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from deskmate.assist.state import CustomerView
from deskmate.errors import InvalidInput

_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+|\n)\s*$")
PII_KINDS = ("EMAIL", "PHONE", "CARD", "IBAN", "NATIONAL_ID", "ADDRESS")


@dataclass
class GuardedReply:
    text: str | None  # None: dropped
    reasons: list[str] = field(default_factory=list)


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def _compile_policy(settings: dict) -> tuple[list[tuple[str, re.Pattern]], list[tuple[re.Pattern, str]]]:
    forbidden = []
    for phrase in settings.get("forbidden_phrases") or []:
        if not isinstance(phrase, str) or not phrase.strip():
            raise InvalidInput("forbidden_phrases: each entry must be a non-empty string")
        forbidden.append((phrase, re.compile(r"(?<!\w)" + re.escape(phrase.strip()) + r"(?!\w)", re.I)))
    disclaimers = []
    for rule in settings.get("required_disclaimers") or []:
        if not isinstance(rule, dict) or not rule.get("when") or not rule.get("disclaimer"):
            raise InvalidInput("required_disclaimers: each entry needs 'when' (a regex) and 'disclaimer'")
        try:
            disclaimers.append((re.compile(rule["when"], re.I), str(rule["disclaimer"]).strip()))
        except re.error as exc:
            raise InvalidInput(f"required_disclaimers: invalid regex {rule['when']!r}: {exc}") from None
    return forbidden, disclaimers


class Guardrails:
    """One tenant's reply policy plus the names of its customers (to spot someone else's name)."""

    def __init__(self, tenant_settings: dict | None = None, known_names: Iterable[str] = ()):
        from deskmate.nlp import pii_detectors

        self.settings = dict(tenant_settings or {})
        self.forbidden, self.disclaimers = _compile_policy(self.settings)
        self._names = pii_detectors.name_pattern(sorted({n for n in known_names if n}))
        self._word_like_names = getattr(pii_detectors, "_WORD_LIKE_NAMES", frozenset())

    def _word_like(self, token: str) -> bool:
        return " " not in token.strip() and token.strip().lower() in self._word_like_names

    def check(self, text: str, customer: CustomerView, *, agent_name: str | None = None,
              conversation_ids: dict[str, list[str]] | None = None) -> GuardedReply:
        """The reply made safe for this customer, or dropped with the reasons why."""
        from deskmate.nlp.pii import find_pii

        reasons: list[str] = []
        for phrase, pattern in self.forbidden:
            if pattern.search(text):
                return GuardedReply(None, [f"contains the forbidden phrase {phrase!r}"])
        spans = find_pii(text, kinds=PII_KINDS + ("ORDER_ID", "ACCOUNT_ID"), identifiers=("ORDER_ID", "ACCOUNT_ID"))
        replacements: list[tuple[int, int, str]] = []
        for span in spans:
            fixed = self._refill(span.kind, span.value, customer, conversation_ids or {})
            if fixed is None:
                return GuardedReply(None, [f"contains a {span.kind.lower()} that is not this customer's"])
            if fixed != span.value:
                replacements.append((span.start, span.end, fixed))
                reasons.append(f"re-filled a {span.kind.lower()} with this customer's")
        if self._names is not None:
            allowed = _name_tokens(customer.name) | _name_tokens(agent_name)
            for m in self._names.finditer(text):
                if _name_tokens(m.group(0)) <= allowed or any(s <= m.start() < e for s, e, _ in replacements):
                    continue
                if self._word_like(m.group(0)) and _SENTENCE_START.search(text[: m.start()]):
                    continue  # "Will you ...", "May I ...": a word, not a name
                if not customer.first_name:
                    return GuardedReply(None, ["names another customer"])
                replacements.append((m.start(), m.end(), customer.first_name))
                reasons.append("re-filled another customer's name with this customer's")
        for start, end, value in sorted(replacements, reverse=True):
            text = text[:start] + value + text[end:]
        for pattern, disclaimer in self.disclaimers:
            if pattern.search(text) and disclaimer.lower() not in text.lower():
                text = f"{text.rstrip()} {disclaimer}"
                reasons.append("added the required disclaimer")
        return GuardedReply(text, reasons)

    @staticmethod
    def _refill(kind: str, value: str, customer: CustomerView, mentioned: dict[str, list[str]]) -> str | None:
        """This customer's own value is kept; someone else's is replaced by this customer's, or None."""
        if kind == "EMAIL":
            if customer.email and value.lower() == customer.email.lower():
                return value
            return customer.email or None
        if kind == "PHONE":
            if customer.phone and _digits(value)[-9:] == _digits(customer.phone)[-9:]:
                return value
            return customer.phone or None
        if kind in ("ORDER_ID", "ACCOUNT_ID"):
            record_kind = "order" if kind == "ORDER_ID" else "account"
            own = {r["external_id"] for r in customer.records if r.get("kind") == record_kind}
            own |= set(mentioned.get(kind.lower(), []))
            if kind == "ACCOUNT_ID" and customer.external_id:
                own.add(customer.external_id)
            if value in own:
                return value
            preferred = (mentioned.get(kind.lower()) or [None])[-1] or next(iter(sorted(own)), None)
            return preferred
        return None  # cards, IBANs, national ids, addresses are never copied from another conversation


def _name_tokens(name: str | None) -> set[str]:
    return {t.lower() for t in re.split(r"[\s,]+", name or "") if t}
