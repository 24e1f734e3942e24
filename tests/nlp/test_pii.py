"""PII redaction: adversarial strings, no false positives on support text, and the stored bytes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deskmate.errors import InvalidInput
from deskmate.nlp.pii import Redactor, find_pii
from tests.conftest import auth


def redact(text: str, names=(), **settings) -> str:
    return Redactor.for_tenant(settings, names=names).redact(text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my card is 4111 1111 1111 1111 thanks", "my card is [CARD] thanks"),
        ("card: 4111-1111-1111-1111", "card: [CARD]"),
        ("5500000000000004 exp 12/27", "[CARD] exp 12/27"),
        ("amex 3782 822463 10005", "amex [CARD]"),
        ("card 4111 1111 1111 1111 12/27 cvv 123", "card [CARD] 12/27 cvv 123"),
        ("Contact: Jane <jane.doe+support@mail.example.co.uk>", "Contact: Jane <[EMAIL]>"),
        ("mail me at JOHN_smith@example.com.", "mail me at [EMAIL]."),
        ("call (977) 625-2661 after 5", "call [PHONE] after 5"),
        ("US +1 415-555-2671", "US [PHONE]"),
        ("my number is 2025550123", "my number is [PHONE]"),
        ("UK: +44 20 7946 0958", "UK: [PHONE]"),
        ("office 020 7946 0958", "office [PHONE]"),
        ("FR +33 1 42 68 53 00 or 01 42 68 53 00", "FR [PHONE] or [PHONE]"),
        ("Handy +49 151 23456789", "Handy [PHONE]"),
        ("Berlin 030 901820", "Berlin [PHONE]"),
        ("India +91 98765 43210", "India [PHONE]"),
        ("ring 0044 20 7946 0958", "ring [PHONE]"),
        ("IBAN DE89 3704 0044 0532 0130 00 please", "IBAN [IBAN] please"),
        ("pay to GB82WEST12345698765432", "pay to [IBAN]"),
        ("fr7630006000011234567890189", "[IBAN]"),
        ("SSN 123-45-6789", "SSN [NATIONAL_ID]"),
        ("my social security number is 123456789", "my social security number is [NATIONAL_ID]"),
        ("NI number AB 12 34 56 C", "NI number [NATIONAL_ID]"),
        ("DNI 12345678Z", "DNI [NATIONAL_ID]"),
        ("NIE X-1234567-L", "NIE [NATIONAL_ID]"),
        ("numéro de sécu 1 84 12 76 451 089 46", "numéro de sécu [NATIONAL_ID]"),
        ("ship to 221B Baker Street, London NW1 6XE", "ship to [ADDRESS]"),
        ("I moved to 1600 Pennsylvania Ave NW", "I moved to [ADDRESS] NW"),
        ("address: 42 Wallaby Way, Sydney", "address: [ADDRESS]"),
        ("123 main st apt 4b", "[ADDRESS]"),
        ("6821 1st ave  san mateo, ny 75227", "[ADDRESS]"),
        ("500 Oak Road, Springfield, IL 62704 is my home", "[ADDRESS] is my home"),
        ("livrer au 12 rue de Rivoli", "livrer au [ADDRESS]"),
        ("Lieferadresse Hauptstraße 5", "Lieferadresse [ADDRESS]"),
        ("envío a Calle Mayor 5", "envío a [ADDRESS]"),
    ],
)
def test_adversarial_pii_is_redacted(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I want to order 3 items",
        "it cost $94.00 and shipping was €12,50",
        "ordered on 2025-11-06, arrived 06/11/2025 at 10:30",
        "card ending 4111 1111 1111 1112 was declined",  # 16 digits, fails Luhn
        "order 12345678 has not arrived",  # order ids are kept unless configured
        "order #1234567890 and ORD-12345",
        "ticket 5551234567 is still open",
        "I ordered 2 of the street lamps, 3 days ago",
        "we waited 20 minutes on the 2 way radio",
        "the total is 1,299.00 for 12 items",
        "version 10.2.3 of the app crashes",
        "Please restart the router and wait 5 minutes.",
        "year 2024 was better; 99.9% uptime",
        "account tier: gold since 2019",
    ],
)
def test_ordinary_support_text_is_left_alone(text):
    assert redact(text) == text


def test_customer_names_whole_words_case_insensitive_and_first_name_alone():
    names = ["Maria Garcia"]
    assert redact("Hi, this is MARIA GARCIA here", names) == "Hi, this is [NAME] here"
    assert redact("thanks maria!", names) == "thanks [NAME]!"
    assert redact("Mrs Garcia's parcel", names) == "Mrs [NAME]'s parcel"
    assert redact("Mariana and Marias are other people", names) == "Mariana and Marias are other people"
    assert redact("maria.garcia@example.com", names) == "[EMAIL]"


def test_names_that_are_everyday_words_only_match_capitalised():
    names = ["Will May"]
    assert redact("I will check if it may arrive", names) == "I will check if it may arrive"
    assert redact("Hello, Will here", names) == "Hello, [NAME] here"


def test_configured_identifiers_and_builtin_kinds():
    settings = {"pii_identifiers": [{"kind": "ORDER_ID"}, {"kind": "loyalty_id", "pattern": r"\bLY-(?P<value>\d{6})\b"}]}
    text = "order 12345678 and order #A1B2C3D4, card LY-123456"
    assert redact(text, **settings) == "order [ORDER_ID] and order #[ORDER_ID], card LY-[LOYALTY_ID]"
    assert redact("acct ACC-99881", pii_identifiers=["ACCOUNT_ID"]) == "acct [ACCOUNT_ID]"
    assert redact("Username: cminh730, or @cminh", pii_identifiers=["USERNAME"]) == "Username: [USERNAME], or @[USERNAME]"
    assert redact("my username is not working", pii_identifiers=["USERNAME"]) == "my username is not working"
    assert redact("I want to order 3 items", **settings) == "I want to order 3 items"


def test_kinds_subset_and_switch_off():
    text = "mail a@b.co or call +44 20 7946 0958"
    assert redact(text, pii_kinds=["EMAIL"]) == "mail [EMAIL] or call +44 20 7946 0958"
    assert redact(text, redact_pii=False) == text


def test_bad_settings_are_rejected_with_a_message():
    with pytest.raises(InvalidInput, match="unknown kind"):
        Redactor.for_tenant({"pii_kinds": ["EMAILS"]})
    with pytest.raises(InvalidInput, match="invalid pattern"):
        Redactor.for_tenant({"pii_identifiers": [{"kind": "X", "pattern": "(unclosed"}]})
    with pytest.raises(InvalidInput, match="needs a 'pattern'"):
        Redactor.for_tenant({"pii_identifiers": [{"kind": "TICKET"}]})


def test_find_pii_reports_kinds_and_offsets():
    text = "Email jo@x.io, card 4111 1111 1111 1111"
    spans = find_pii(text)
    assert [(s.kind, text[s.start:s.end], s.value) for s in spans] == [
        ("EMAIL", "jo@x.io", "jo@x.io"),
        ("CARD", "4111 1111 1111 1111", "4111 1111 1111 1111"),
    ]


def test_redaction_is_idempotent_and_for_tenant_is_cached():
    r = Redactor.for_tenant({"redact_pii": True}, names=["Sam Lee"])
    assert Redactor.for_tenant({"redact_pii": True, "other": 1}, names=["Sam Lee"]) is r
    once = r.redact("Sam Lee, sam@lee.io, +44 20 7946 0958")
    assert r.redact(once) == once == "[NAME], [EMAIL], [PHONE]"


def test_abcd_sample_conversations_keep_no_contact_details(data_dir):
    """Real support dialogues (ABCD): the scenario's name, e-mail and phone never survive redaction."""
    import json

    conversations = json.loads((data_dir / "abcd" / "abcd_sample.json").read_text())
    for conversation in conversations:
        personal = conversation["scenario"]["personal"]
        redactor = Redactor.for_tenant({}, names=[personal["customer_name"]])
        texts = [redactor.redact(text) for role, text in conversation["original"] if role == "customer"]
        secrets = [personal["customer_name"], *personal["customer_name"].split(), personal.get("email"), personal["phone"]]
        for secret in filter(None, secrets):
            whole_word = re.compile(rf"(?<!\w){re.escape(secret)}(?!\w)", re.IGNORECASE)
            assert not any(whole_word.search(t) for t in texts), secret


# End to end: what reaches the SQLite file. File-level checks need the SQLite store only.
@pytest.fixture
def db_url(sqlite_url):
    return sqlite_url


RAW = {
    "email": "maria.garcia@example.com",
    "phone": "+44 20 7946 0958",
    "card": "4111 1111 1111 1111",
    "iban": "DE89 3704 0044 0532 0130 00",
}


def _conversation_with_pii(client, store, workspace, redact_pii: bool) -> dict:
    from deskmate.accounts.models import Tenant
    from deskmate.customers.service import upsert_customer

    with store.session() as s:
        tenant = s.get(Tenant, workspace.tenant_id)
        tenant.settings = {**(tenant.settings or {}), "redact_pii": redact_pii}
        upsert_customer(s, tenant_id=workspace.tenant_id, external_id="cust-1", name="Maria Garcia")
    messages = [
        {"role": "customer", "text": f"Hi, Maria Garcia here, my email is <{RAW['email']}> and phone {RAW['phone']}"},
        {"role": "customer", "text": f"I paid with {RAW['card']}, refund to {RAW['iban']} please"},
        {"role": "agent", "text": "Thanks maria, checking now"},
        {"role": "agent", "kind": "action", "action": "verify-identity", "action_values": {"email": RAW["email"]}},
    ]
    body = {"customer_external_id": "cust-1", "messages": messages}
    resp = client.post("/conversations", json=body, headers=auth(workspace.tokens["agent"]))
    assert resp.status_code == 201, resp.text
    return resp.json()


def _stored_bytes(store) -> bytes:
    store.engine.dispose()
    path = Path(store.url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def test_redaction_on_no_raw_value_reaches_the_sqlite_file(client, store, workspace):
    from sqlalchemy import text as sql

    detail = _conversation_with_pii(client, store, workspace, redact_pii=True)
    texts = [m["text"] for m in detail["messages"]]
    assert texts[0] == "Hi, [NAME] here, my email is <[EMAIL]> and phone [PHONE]"
    assert texts[1] == "I paid with [CARD], refund to [IBAN] please"
    assert texts[2] == "Thanks [NAME], checking now"
    stored = _stored_bytes(store)
    for value in RAW.values():
        for variant in {value, value.replace(" ", "")}:
            assert variant.encode() not in stored, f"{variant!r} found in the database file"
    with store.engine.connect() as conn:  # the name lives in the customer record only
        rows = conn.execute(sql("SELECT text, action_values FROM messages")).all()
    assert rows and not any("maria" in f"{t} {v}".lower() for t, v in rows)


def test_redaction_off_keeps_the_text(client, store, workspace):
    detail = _conversation_with_pii(client, store, workspace, redact_pii=False)
    assert RAW["email"] in detail["messages"][0]["text"]
    stored = _stored_bytes(store)
    assert RAW["card"].encode() in stored and RAW["email"].encode() in stored


def test_pathological_long_text_is_still_redacted():
    """A 20,000-character pasted table of numbers (the message size limit); its cost is in bench/nlp_text_speed.py."""
    table = " ".join(f"{i % 10}" for i in range(10000)) + " " + " ".join("+44 20 7946 0958" for _ in range(300))
    r = Redactor.for_tenant({})
    redacted = r.redact(table)
    assert "7946" not in redacted
