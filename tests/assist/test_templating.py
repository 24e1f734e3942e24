"""Reply templates: filled with this customer's values; an unknown name used only to address them is dropped."""

from __future__ import annotations

import pytest

from deskmate.assist.templating import fill

KNOWN = {"[NAME]": "Ann", "[FULL_NAME]": "Ann Lee", "[ORDER_ID]": "ord-1"}


@pytest.mark.parametrize("template, filled", [
    ("Hi [NAME], thanks for waiting.", "Hi Ann, thanks for waiting."),
    ("Thanks, [NAME]! Order [ORDER_ID] is on its way.", "Thanks, Ann! Order ord-1 is on its way."),
    ("Is the order under [FULL_NAME]?", "Is the order under Ann Lee?"),
])
def test_known_values_fill_every_placeholder(template, filled):
    assert fill(template, KNOWN) == (filled, [])


@pytest.mark.parametrize("template, filled, missing", [
    ("Hi [NAME], thanks for waiting.", "Hi, thanks for waiting.", []),
    ("Good morning [NAME]! How can I help?", "Good morning! How can I help?", []),
    ("Thanks, [NAME]. Order [ORDER_ID] ships today.", "Thanks. Order ord-1 ships today.", []),
    ("Thanks, [NAME]", "Thanks", []),
    ("Is the order under [NAME]?", "Is the order under [NAME]?", ["[NAME]"]),
    ("Hi [NAME], your card ending [CARD] was charged.", "Hi, your card ending [CARD] was charged.", ["[CARD]"]),
])
def test_an_unknown_name_used_to_address_the_customer_is_dropped(template, filled, missing):
    assert fill(template, {"[ORDER_ID]": "ord-1"}) == (filled, missing)
