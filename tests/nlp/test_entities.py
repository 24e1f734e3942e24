"""Entities the assist fills suggestions with."""

from __future__ import annotations

from datetime import date

import pytest

from deskmate.nlp.entities import ProductCatalogue, extract_entities
from deskmate.nlp.entity_values import parse_number

REFERENCE = date(2025, 11, 12)  # a Wednesday
CATALOGUE = ["Slim Fit Jeans", "Bootcut Jeans", "Classic Denim Jacket", "Wireless Earbuds Pro", "Leather Belt", "iPhone 15 Case"]


def found(text: str, kind: str, **kwargs) -> list[tuple[str, object]]:
    kwargs.setdefault("reference_date", REFERENCE)
    return [(e.text, e.value) for e in extract_entities(text, **kwargs) if e.kind == kind]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my order 123456789 hasn't arrived", [("123456789", "123456789")]),
        ("Order ID: 5566778899", [("5566778899", "5566778899")]),
        ("order number is A1B2C3D4", [("A1B2C3D4", "A1B2C3D4")]),
        ("it's #98765432", [("98765432", "98765432")]),
        ("about ORD-12345 and SO-778812", [("ORD-12345", "ORD-12345"), ("SO-778812", "SO-778812")]),
        ("I want to order 3 items", []),
        ("order of 2025", []),
    ],
)
def test_order_ids(text, expected):
    assert found(text, "order_id") == expected


def test_order_patterns_are_configurable():
    patterns = [r"\b(?P<value>SH-[0-9]{6})\b"]
    assert found("shipment SH-123456, order 12345678", "order_id", order_patterns=patterns) == [("SH-123456", "SH-123456")]


def test_account_ids_and_usernames():
    assert found("account number 5566778899", "account_id") == [("5566778899", "5566778899")]
    assert found("acct ACC-4411 please", "account_id") == [("ACC-4411", "ACC-4411")]
    assert found("member since 2019", "account_id") == []
    assert found("my username is jsmith84, on twitter @jsmith", "username") == [("jsmith84", "jsmith84"), ("jsmith", "jsmith")]
    assert found("login: anna_k", "username") == [("anna_k", "anna_k")]
    assert found("my username is not working", "username") == []
    assert found("mail bob@example.com", "username") == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("I was charged $94", [("$94", 94.0, "USD")]),
        ("refund of 94.00 USD", [("94.00 USD", 94.0, "USD")]),
        ("it was €12,50", [("€12,50", 12.5, "EUR")]),
        ("about 12 dollars", [("12 dollars", 12.0, "USD")]),
        ("1.299,00 € total", [("1.299,00 €", 1299.0, "EUR")]),
        ("£1,299.50 and 50 cents", [("£1,299.50", 1299.5, "GBP"), ("50 cents", 0.5, "USD")]),
        ("CA$ 15.5 or EUR 30", [("CA$ 15.5", 15.5, "CAD"), ("EUR 30", 30.0, "EUR")]),
        ("order 3 items at 10:30", []),
    ],
)
def test_amounts(text, expected):
    assert [(t, v["amount"], v["currency"]) for t, v in found(text, "amount")] == expected


def test_number_formats():
    assert parse_number("1,299.00") == parse_number("1.299,00") == parse_number("1 299") == 1299.0
    assert parse_number("12,5") == 12.5 and parse_number("1,299") == 1299.0


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ordered on 2025-11-06", [("2025-11-06", "2025-11-06")]),
        ("it was Nov 6", [("Nov 6", "2025-11-06")]),
        ("on November 6th, 2024", [("November 6th, 2024", "2024-11-06")]),
        ("6 November 2025", [("6 November 2025", "2025-11-06")]),
        ("the 6th of Nov", [("6th of Nov", "2025-11-06")]),
        ("since 11/06/2025", [("11/06/2025", "2025-11-06")]),
        ("since 25/12/2024", [("25/12/2024", "2024-12-25")]),
        ("it came yesterday", [("yesterday", "2025-11-11")]),
        ("I called last week", [("last week", "2025-11-05")]),
        ("3 days ago", [("3 days ago", "2025-11-09")]),
        ("two weeks ago", [("two weeks ago", "2025-10-29")]),
        ("last Monday", [("last Monday", "2025-11-10")]),
        ("next Friday", [("next Friday", "2025-11-14")]),
        ("in 5 days", [("in 5 days", "2025-11-17")]),
        ("Jan 3", [("Jan 3", "2026-01-03")]),  # no year: the occurrence nearest the reference date
        ("I need 3 items, version 10.2.3", []),
    ],
)
def test_dates(text, expected):
    assert found(text, "date") == expected


def test_day_first_dates():
    assert found("on 05/06/2025", "date", day_first=True) == [("05/06/2025", "2025-06-05")]
    assert found("on 05/06/2025", "date") == [("05/06/2025", "2025-05-06")]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("the slim fit jeans are too small", [("slim fit jeans", "Slim Fit Jeans")]),
        ("the jeans are too small", []),  # two kinds of jeans: ambiguous
        ("bootcut jeans please", [("bootcut jeans", "Bootcut Jeans")]),
        ("the jacket and my belts", [("jacket", "Classic Denim Jacket"), ("belts", "Leather Belt")]),
        ("my EARBUDS died", [("EARBUDS", "Wireless Earbuds Pro")]),
        ("an iphone 15 case", [("iphone 15 case", "iPhone 15 Case")]),
        ("a classic problem", []),  # generic words alone never name a product
    ],
)
def test_products_from_the_catalogue(text, expected):
    assert found(text, "product", products=CATALOGUE) == expected


def test_prebuilt_catalogue_and_contacts():
    catalogue = ProductCatalogue(CATALOGUE)
    entities = extract_entities(
        "Email Bob@Example.com or call +44 20 7946 0958 about the jacket", products=catalogue, reference_date=REFERENCE
    )
    assert [(e.kind, e.value) for e in entities] == [
        ("email", "bob@example.com"),
        ("phone", "+442079460958"),
        ("product", "Classic Denim Jacket"),
    ]
    text = "call (977) 625-2661"
    (phone,) = extract_entities(text)
    assert phone.kind == "phone" and text[phone.start:phone.end] == "(977) 625-2661"


def test_entities_do_not_overlap_and_keep_offsets():
    text = "order 12345678 cost $94.00 on Nov 6, call 415-555-2671"
    entities = extract_entities(text, reference_date=REFERENCE)
    assert [e.kind for e in entities] == ["order_id", "amount", "date", "phone"]
    for e in entities:
        assert text[e.start:e.end] == e.text
    assert all(a.end <= b.start for a, b in zip(entities, entities[1:], strict=False))
