"""Past agent replies as templates, and templates filled for the customer in front of the agent.

A reply from history names that conversation's customer, order and agent; before it enters
the reply bank those values become typed placeholders (the same ones PII redaction writes, so a
redacted store and a raw one give the same templates), and at suggestion time they are filled
with this customer's values. A placeholder nobody can fill stays visible for the agent to
complete and is listed in `missing_values`.
"""

from __future__ import annotations

import re

from deskmate.assist.state import CustomerView

# Filled at suggestion time; [NAME] is the first name, how agents address customers.
FILLABLE = ("[NAME]", "[FULL_NAME]", "[EMAIL]", "[PHONE]", "[ORDER_ID]", "[ACCOUNT_ID]", "[AGENT_NAME]", "[AMOUNT]")
_PLACEHOLDER = re.compile(r"\[[A-Z][A-Z_]{1,30}\]")
_MONEY = re.compile(r"\$\s?(\d{1,6}(?:,\d{3})*(?:\.\d{2})?)")
_GENERIC_PII = ("EMAIL", "PHONE", "CARD", "IBAN", "NATIONAL_ID", "ADDRESS")
# A name used only to address the customer can go when it is unknown: "Hi [NAME], ..." -> "Hi, ...",
# "Thanks, [NAME]!" -> "Thanks!". A name the sentence needs ("is the order under [NAME]?") stays missing.
_VOCATIVE_NAME = (
    (re.compile(r"\b(Hi|Hello|Hey|Dear|Morning|Good (?:morning|afternoon|evening))\s+\[(?:FULL_)?NAME\]", re.I), r"\1"),
    (re.compile(r",\s*\[(?:FULL_)?NAME\](?=\s*[.!?,;:)]|\s*$)"), ""),
)


def _sub_literal(text: str, value: str | None, placeholder: str, *, ignore_case: bool = False) -> str:
    if not value or len(value) < 2:
        return text
    flags = re.I if ignore_case else 0
    return re.sub(r"(?<![\w@.])" + re.escape(value) + r"(?![\w@])", placeholder, text, flags=flags)


def to_template(text: str, customer: CustomerView | None, agent_name: str | None = None) -> str:
    """Replace this conversation's people and identifiers with placeholders."""
    from deskmate.nlp.pii import find_pii

    if agent_name:
        text = _sub_literal(text, agent_name, "[AGENT_NAME]", ignore_case=True)
        text = _sub_literal(text, agent_name.split()[0], "[AGENT_NAME]")
    if customer is not None:
        if customer.name:
            text = _sub_literal(text, customer.name, "[FULL_NAME]", ignore_case=True)
            text = _sub_literal(text, customer.first_name, "[NAME]", ignore_case=True)
            last = customer.name.split()[-1] if len(customer.name.split()) > 1 else None
            text = _sub_literal(text, last, "[NAME]")
        text = _sub_literal(text, customer.email, "[EMAIL]", ignore_case=True)
        text = _sub_literal(text, customer.phone, "[PHONE]")
        for record in customer.records:
            ph = "[ORDER_ID]" if record.get("kind") == "order" else "[ACCOUNT_ID]" if record.get("kind") == "account" else None
            if ph:
                text = _sub_literal(text, record.get("external_id"), ph, ignore_case=True)
            if record.get("amount"):
                text = _sub_amount(text, float(record["amount"]))
        text = _sub_literal(text, customer.external_id, "[ACCOUNT_ID]")
    spans = find_pii(text, kinds=_GENERIC_PII + ("ORDER_ID", "ACCOUNT_ID"), identifiers=("ORDER_ID", "ACCOUNT_ID"))
    for span in reversed(spans):
        text = text[: span.start] + f"[{span.kind}]" + text[span.end :]
    return re.sub(r"\s+", " ", text).strip()


def _sub_amount(text: str, amount: float) -> str:
    exact = f"{amount:.2f}"
    forms = [re.escape(exact)] + ([re.escape(exact[:-3])] if exact.endswith(".00") else [])
    return re.sub(r"\$\s?(?:" + "|".join(forms) + r")(?![\d.]\d)", "[AMOUNT]", text)


def placeholders(template: str) -> list[str]:
    return _PLACEHOLDER.findall(template)


def customer_values(customer: CustomerView, agent_name: str | None, entities: dict[str, list[str]]) -> dict[str, str]:
    """Placeholder -> this conversation's value; mentioned identifiers win over the records."""
    values: dict[str, str] = {}
    if customer.first_name:
        values["[NAME]"] = customer.first_name
    if customer.name:
        values["[FULL_NAME]"] = customer.name
    if customer.email:
        values["[EMAIL]"] = customer.email
    if customer.phone:
        values["[PHONE]"] = customer.phone
    if agent_name:
        values["[AGENT_NAME]"] = agent_name.split()[0]
    orders = [r for r in customer.records if r.get("kind") == "order"]
    order = entities.get("order_id", [None])[-1] or (orders[-1]["external_id"] if orders else None)
    if order:
        values["[ORDER_ID]"] = order
    accounts = [r["external_id"] for r in customer.records if r.get("kind") == "account"]
    account = entities.get("account_id", [None])[-1] or (accounts[-1] if accounts else None)
    if account:
        values["[ACCOUNT_ID]"] = account
    amount = entities.get("amount", [None])[-1]
    if amount is None:
        record = next((r for r in reversed(orders) if r.get("external_id") == order and r.get("amount")), None)
        amount = f"${float(record['amount']):.2f}" if record else None
    if amount:
        values["[AMOUNT]"] = amount
    return values


def fill(template: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """The template with every fillable placeholder replaced; the rest are reported missing."""
    missing: list[str] = []
    if "NAME]" in template:
        for pattern, replacement in _VOCATIVE_NAME:
            template = pattern.sub(lambda m: m.expand(replacement) if _unknown(m.group(0), values) else m.group(0),
                                   template)

    def repl(m: re.Match) -> str:
        key = m.group(0)
        if key in values:
            return values[key]
        if key not in missing:
            missing.append(key)
        return key

    return _PLACEHOLDER.sub(repl, template), missing


def _unknown(match: str, values: dict[str, str]) -> bool:
    return ("[FULL_NAME]" in match and "[FULL_NAME]" not in values) or ("[NAME]" in match and "[NAME]" not in values)


def money_mentions(text: str) -> list[str]:
    return [f"${m.group(1)}" for m in _MONEY.finditer(text)]
