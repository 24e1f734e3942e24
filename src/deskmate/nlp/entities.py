"""Entities the assist fills suggestions with: identifiers, amounts, dates, products, contacts.

Rules and the workspace's own catalogue rather than a statistical tagger:
identifiers and amounts have exact shapes, and product names only make sense
against the catalogue the workspace sells. Order and e-mail/phone shapes are
shared with `deskmate.nlp.pii`, so what is redacted and what is extracted agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import phonenumbers

from deskmate.nlp import pii_detectors
from deskmate.nlp.entity_values import find_amounts, find_dates
from deskmate.nlp.pii import (
    DEFAULT_IDENTIFIER_PATTERNS,
    DEFAULT_PHONE_REGIONS,
    IDENTIFIER_HINTS,
)

KINDS = ("email", "order_id", "account_id", "username", "phone", "amount", "date", "product")
_PRIORITY = {kind: i for i, kind in enumerate(KINDS)}


@dataclass(frozen=True, slots=True)
class Entity:
    kind: str
    text: str
    value: Any  # str for ids, e-mails (lower-case), phones (E.164), dates (ISO); dict for amounts
    start: int
    end: int


_USERNAME = re.compile(
    r"(?<![\w.@])@(?P<handle>[A-Za-z0-9_]{2,30})(?![\w@.-])"
    r"|(?i:\b(?:user ?name|login|handle|user ?id)\s*(?:is\s+|:\s*|=\s*)?)(?P<value>[A-Za-z0-9_.-]{3,30})(?![\w@])"
)
_NOT_A_USERNAME = frozenset(
    "the and not wrong incorrect invalid correct same different working broken locked my your his her their our "
    "page screen button details field form email password".split()
)
_GENERIC_PRODUCT_WORDS = frozenset(
    "the a an and or with for of in on by to new pro max mini plus classic premium basic standard set pack kit "
    "edition size color colour black white blue red green grey gray small medium large xl xs one two men women "
    "kids unisex original deluxe ultra lite light series model version item product".split()
)


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """Enough morphology for catalogue matching: jeans~jean, batteries~battery, boxes~box."""
    word = word.lower().replace("’", "'").removesuffix("'s")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ses", "xes", "ches", "shes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


_WORD = re.compile(r"[A-Za-z0-9]+(?:['’-][A-Za-z0-9]+)*")


class ProductCatalogue:
    """A workspace's product names, indexed once so every message is matched cheaply.

    Any run of words from a product name that names exactly one product counts
    ("the jeans" when only one product is jeans); a full name always counts.
    """

    def __init__(self, products: Iterable[str]):
        self.products = tuple(dict.fromkeys(p.strip() for p in products if p and p.strip()))
        owners: dict[tuple[str, ...], set[str]] = {}
        full_names: dict[tuple[str, ...], str] = {}
        for product in self.products:
            tokens = tuple(_stem(t) for t in _WORD.findall(product))
            if not tokens:
                continue
            full_names[tokens] = product
            for n in range(1, len(tokens)):
                for i in range(len(tokens) - n + 1):
                    gram = tokens[i:i + n]
                    if not all(t in _GENERIC_PRODUCT_WORDS or len(t) < 3 for t in gram):
                        owners.setdefault(gram, set()).add(product)
        self._index = {gram: next(iter(names)) for gram, names in owners.items() if len(names) == 1}
        self._index.update(full_names)  # a full name wins even when it is part of another name
        self._first = frozenset(gram[0] for gram in self._index)
        self._longest = max((len(g) for g in self._index), default=1)

    def find(self, text: str) -> Iterable[tuple[int, int, str]]:
        words = [(m.start(), m.end(), _stem(m.group())) for m in _WORD.finditer(text)]
        i = 0
        while i < len(words):
            if words[i][2] in self._first:
                for n in range(min(self._longest, len(words) - i), 0, -1):
                    product = self._index.get(tuple(w[2] for w in words[i:i + n]))
                    if product is not None:
                        yield words[i][0], words[i + n - 1][1], product
                        i += n - 1
                        break
            i += 1


@lru_cache(maxsize=64)
def _catalogue(products: tuple[str, ...]) -> ProductCatalogue:
    return ProductCatalogue(products)


@lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern, ...]:
    return tuple(re.compile(p) for p in patterns)


def _identifiers(text: str, lowered: str, patterns: tuple[str, ...]) -> Iterable[tuple[int, int, str]]:
    for source, pattern in zip(patterns, _compiled(patterns), strict=True):
        hints = IDENTIFIER_HINTS.get(source)
        if hints is not None and not any(h in lowered for h in hints):
            continue
        for m in pattern.finditer(text):
            group = "value" if "value" in pattern.groupindex else (1 if pattern.groups else 0)
            if m.group(group):
                yield m.start(group), m.end(group), m.group(group)


def _phone_value(raw: str, regions: Sequence[str]) -> str:
    candidates = [None] if raw.startswith("+") else [*regions]
    if raw.startswith("00"):
        raw, candidates = "+" + raw[2:], [None]
    for region in candidates:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number) or (region is None and phonenumbers.is_possible_number(number)):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return re.sub(r"[^0-9+]", "", raw)


def extract_entities(
    text: str,
    products: Iterable[str] | ProductCatalogue = (),
    reference_date: date | None = None,
    *,
    order_patterns: Sequence[str] | None = None,
    account_patterns: Sequence[str] | None = None,
    phone_regions: Sequence[str] = DEFAULT_PHONE_REGIONS,
    day_first: bool = False,
) -> list[Entity]:
    """Entities in `text`, in order of appearance, without overlaps.

    Pass a `ProductCatalogue` for a large catalogue (names are indexed once).
    Relative dates ("yesterday", "last week") count from `reference_date` (today
    by default: pass the message's time for history). Order and account patterns
    replace the defaults when given (a regex; its group "value" or group 1 is the id).
    """
    if not text:
        return []
    found: list[tuple[int, int, str, Any]] = []
    if "@" in text:
        found += [(m.start(), m.end(), "email", m.group().lower()) for m in pii_detectors.EMAIL.finditer(text)]
    has_digit = pii_detectors.DIGIT.search(text) is not None
    if has_digit:
        order = tuple(order_patterns) if order_patterns is not None else DEFAULT_IDENTIFIER_PATTERNS["ORDER_ID"]
        account = tuple(account_patterns) if account_patterns is not None else DEFAULT_IDENTIFIER_PATTERNS["ACCOUNT_ID"]
        lowered = text.lower()
        found += [(s, e, "order_id", v) for s, e, v in _identifiers(text, lowered, order)]
        found += [(s, e, "account_id", v) for s, e, v in _identifiers(text, lowered, account)]
        phones = list(pii_detectors.find_phones(text, phone_regions))
        budget = pii_detectors.PHONE_VALIDATION_BUDGET
        found += [(s, e, "phone", _phone_value(text[s:e], phone_regions) if i < budget else re.sub(r"[^0-9+]", "", text[s:e]))
                  for i, (s, e) in enumerate(phones)]
        found += [(s, e, "amount", v) for s, e, v in find_amounts(text)]
    for m in _USERNAME.finditer(text):
        value = m.group("handle") or m.group("value")
        if value and value.lower() not in _NOT_A_USERNAME:
            group = "handle" if m.group("handle") else "value"
            found.append((m.start(group), m.end(group), "username", value))
    found += [(s, e, "date", v) for s, e, v in find_dates(text, reference_date or date.today(), day_first)]
    catalogue = products if isinstance(products, ProductCatalogue) else _catalogue(tuple(products))
    if catalogue.products:
        found += [(s, e, "product", p) for s, e, p in catalogue.find(text)]
    return _without_overlaps(found, text)


def _without_overlaps(found: list[tuple[int, int, str, Any]], text: str) -> list[Entity]:
    found.sort(key=lambda f: (_PRIORITY[f[2]], f[0] - f[1]))
    kept = pii_detectors.keep_non_overlapping(found, len(text))
    return [Entity(kind, text[s:e], value, s, e) for s, e, kind, value in kept]
