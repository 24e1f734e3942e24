"""The detectors behind `deskmate.nlp.pii`: one per PII kind, each yielding (start, end) spans.

Checksums keep false positives low on support text full of order numbers and
prices: Luhn for cards, mod-97 for IBAN and the French NIR, the check letter for
Spanish DNI/NIE. Leading lookbehinds defeat the regex engine's first-character
scan, which is why some left boundaries are checked in Python.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache

import phonenumbers

DIGIT = re.compile(r"[0-9]")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}")

# Leading lookbehinds defeat the regex engine's first-character scan, so the
# left boundary of cards is checked in Python instead.
_CARD = re.compile(r"[2-6][0-9]*(?:[ -][0-9]+){0,8}(?![0-9])")

_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
    "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})[0-9]{2}(?=[ -]?[A-Za-z0-9])")

_SSN = re.compile(r"[0-8][0-9]{2}(?<!000)(?<!666)([- ])(?!00)[0-9]{2}\1(?!0000)[0-9]{4}(?![0-9-])")
_SSN_KEYWORD = re.compile(r"(?i:\b(?:ssn|social security(?: number| no\.?)?)\W{0,3}(?:is\s+)?)(?P<value>[0-9]{9})(?![0-9])")
# National IDs are found from their digits, the part the regex engine can scan
# for quickly; the letters before them are checked afterwards.
_UK_NINO = re.compile(r"[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-Da-d](?![A-Za-z0-9])")
_UK_NINO_PREFIX = re.compile(
    r"(?<![A-Za-z0-9])(?!(?:BG|GB|NK|KN|TN|NT|ZZ))[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?$", re.IGNORECASE
)
_ES_DNI = re.compile(r"(?P<number>[0-9]{7,8})[- ]?(?P<letter>[A-Za-z])(?![A-Za-z0-9])")
_ES_NIE_PREFIX = re.compile(r"(?<![A-Za-z0-9])([XYZxyz])-?$")
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_FR_NIR = re.compile(
    r"([12]) ?([0-9]{2}) ?(0[1-9]|1[0-2]|[2-9][0-9]) ?([0-9]{2}|2[ABab]) ?([0-9]{3}) ?([0-9]{3}) ?([0-9]{2})(?![0-9])"
)

# Street lines. Suffixes that are also everyday words ("way", "place", "drive")
# count only when capitalised, and common words never form a street name.
_STREET_ANY = r"street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|parkway|pkwy|highway|hwy|terrace|crescent|cres"
_STREET_CAP = r"Drive|Dr|Court|Ct|Place|Pl|Way|Close|Square|Sq|Circle|Cir|Row|Walk|Gardens|Grove|Mews"
_NOT_STREET_WORD = (
    r"(?!(?:of|the|a|an|to|for|on|in|at|and|or|my|your|our|his|her|their|it|this|that|these|those|is|was|are|be|"
    r"by|with|from|days?|weeks?|months?|years?|hours?|minutes?|items?|times?|more|less|per|pairs?|units?|pcs|off|"
    r"x|different|other|separate|same|new|old)\b)"
)
_ADDRESS = re.compile(
    r"(?<![\w/.,-])[0-9]{1,5}[A-Za-z]?(?:-[0-9]{1,5})?,?\s+"
    r"(?:" + _NOT_STREET_WORD + r"(?:[A-Za-z][A-Za-z'.-]*|[0-9]{1,3}(?:st|nd|rd|th))\s+){1,4}?"
    r"(?:(?i:" + _STREET_ANY + r")|" + _STREET_CAP + r")\b\.?"
    r"(?:,?\s+(?i:apt|apartment|suite|ste|unit|flat)\.?\s*#?\s*[0-9A-Za-z-]{1,6})?"
    # then "san mateo, ny 75227" (any case, needs the zip) or "Springfield, IL" / "London NW1 6XE"
    r"(?:,?\s+[A-Za-z][A-Za-z.]*(?:\s[A-Za-z][A-Za-z.]*){0,2},\s*[A-Za-z]{2}\s+[0-9]{5}(?:-[0-9]{4})?(?![\w-])"
    r"|(?:,\s*[A-Z][a-z]+(?:\s[A-Z][a-z]+){0,2}(?:,?\s+[A-Z]{2}(?=[\s,]|$))?)?"
    r"(?:,?\s+(?:[0-9]{5}(?:-[0-9]{4})?|[A-Z]{1,2}[0-9][A-Z0-9]?\s?[0-9][A-Z]{2})(?![\w-]))?)"
)
_ADDRESS_EU = re.compile(
    # German "Hauptstraße 5" / "Berliner Str. 12"
    r"(?:\b(?:[A-ZÄÖÜ][a-zäöüß]+er\s)?[A-ZÄÖÜ][\wäöüß-]{2,}(?:stra(?:ß|ss)e|str\.|weg|allee|platz|gasse)"
    r"|\b(?:[A-ZÄÖÜ][a-zäöüß]+er\s)(?:Stra(?:ß|ss)e|Str\.|Weg|Allee|Platz|Gasse))\s*[0-9]{1,4}[a-z]?\b"
    # French "12 rue de Rivoli" / "4 bis, avenue Foch"
    r"|(?<![\w/.,-])[0-9]{1,4}(?:\s?(?:bis|ter))?,?\s+(?i:rue|avenue|av\.|boulevard|bd|place|chemin|allée|impasse|quai|cours)"
    r"\s+(?:(?:de la|de l'|des|du|de|d'|l'|la|le)\s*)?[A-ZÉÈÀÂ][\w'-]*(?:\s[A-ZÉÈÀÂ][\w'-]*){0,3}"
    # Spanish "Calle Mayor 5" / "C/ Alcalá, 42"
    r"|\b(?i:calle|c/|avenida|avda\.?|plaza|paseo|camino)\s*(?:(?:de los|de las|de la|del|de)\s+)?"
    r"[A-ZÁÉÍÓÚÑ][\w-]*(?:\s[A-ZÁÉÍÓÚÑ][\w-]*){0,3},?\s*(?:n[º°o]\.?\s*)?[0-9]{1,4}\b"
)

_STREET_WORDS = frozenset(
    (_STREET_ANY + "|" + _STREET_CAP).lower().split("|")
    + "rue avenue av bd boulevard place chemin allée impasse quai cours calle c/ avenida avda plaza paseo camino".split()
)
_STREET_STEMS = ("straße", "strasse", "str.", "weg", "allee", "platz", "gasse")
_PUNCT_TO_SPACE = str.maketrans({c: " " for c in ",.;:!?()[]\"'"})

_DIGIT_GROUP = re.compile(r"[0-9](?:[ ().\-/]{0,2}[0-9]){5,}")
_PHONE = re.compile(r"(?<![\w+.,/-])(?:\+|00)?\(?[0-9][0-9 ().\-/\u00a0]{5,24}[0-9](?![0-9])")
_NANP_SHAPE = re.compile(r"(?:\+?1[ .-]?)?(?:\([2-9][0-9]{2}\)\s?|[2-9][0-9]{2}[ .-])[2-9][0-9]{2}[ .-][0-9]{4}")
_DATE_SHAPE = re.compile(
    r"(?:19|20)[0-9]{2}[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12][0-9]|3[01])"
    r"|(?:0?[1-9]|[12][0-9]|3[01])[/.-](?:0?[1-9]|1[0-2])[/.-](?:19|20)?[0-9]{2}(?![0-9])"
    r"|(?:0?[1-9]|1[0-2])[/.-](?:0?[1-9]|[12][0-9]|3[01])[/.-](?:19|20)?[0-9]{2}(?![0-9])"
)
# A number right after one of these words is a reference, not a phone number.
_REFERENCE_CONTEXT = re.compile(
    r"(?i:\b(?:order|invoice|ticket|case|ref|reference|tracking|confirmation|booking|transaction|account|acct|"
    r"sku|id|serial|imei|iban|card)\b[^.!?\n]{0,16}|#\s*)$"
)

# Name parts that are also everyday words are matched only as written with a capital.
_WORD_LIKE_NAMES = frozenset(
    "will may june april august mark bill grace hope rose summer faith joy ray dawn don sky brown green white black "
    "young king long little page hill wood rich price case chase bell frank glen guy jack pat sue art major miles "
    "sterling love star cash lane dean penny holly ivy amber crystal angel autumn rob gay hunter mason cook baker "
    "carter bishop booth hall park rusty sunny storm river".split()
)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(code: str) -> bool:
    rearranged = code[4:] + code[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def find_cards(text: str) -> Iterator[tuple[int, int]]:
    for m in _CARD.finditer(text):
        if m.start() and text[m.start() - 1] in "0123456789+.,":
            continue
        # A card followed by an expiry ("... 1111 12/27") makes the run too long:
        # try the longest prefix of whole digit groups that passes Luhn.
        groups = [(g.start(), g.end()) for g in re.finditer(r"[0-9]+", m.group())]
        for n in range(len(groups), 0, -1):
            end = groups[n - 1][1]
            digits = re.sub(r"[^0-9]", "", m.group()[:end])
            if 13 <= len(digits) <= 19 and luhn_ok(digits):
                yield m.start(), m.start() + end
                break
            if len(digits) < 13:
                break


def find_ibans(text: str) -> Iterator[tuple[int, int]]:
    for m in _IBAN_START.finditer(text):
        length = _IBAN_LENGTHS.get(m.group(1).upper())
        if length is None:
            continue
        chars, i = [], m.start()
        while i < len(text) and len(chars) < length:
            c = text[i]
            if c.isascii() and c.isalnum():
                chars.append(c.upper())
            elif not (c in " -" and chars and i + 1 < len(text) and text[i + 1].isalnum()):
                break
            i += 1
        if len(chars) == length and not (i < len(text) and text[i].isalnum()) and iban_ok("".join(chars)):
            yield m.start(), i


def find_national_ids(text: str, longest_group: int = 15) -> Iterator[tuple[int, int]]:
    """US SSN, UK NI number, Spanish DNI/NIE, French NIR; `longest_group` skips shapes that cannot fit."""
    if longest_group >= 9:
        for m in _SSN.finditer(text):
            if not (m.start() and text[m.start() - 1] in "0123456789-"):
                yield m.span()
        lowered = text.lower()
        if "ssn" in lowered or "social security" in lowered:
            for m in _SSN_KEYWORD.finditer(text):
                yield m.span("value")
    for m in _UK_NINO.finditer(text):
        prefix = _UK_NINO_PREFIX.search(text, max(0, m.start() - 3), m.start())
        if prefix is not None:
            yield prefix.start(), m.end()
    if longest_group < 7:
        return
    for m in _ES_DNI.finditer(text):
        start, number = m.start(), m.group("number")
        if len(number) == 7:
            prefix = _ES_NIE_PREFIX.search(text, max(0, start - 2), start)
            if prefix is None:
                continue
            start, number = prefix.start(), str("XYZ".index(prefix.group(1).upper())) + number
        elif start and text[start - 1].isalnum():
            continue
        if _DNI_LETTERS[int(number) % 23] == m.group("letter").upper():
            yield start, m.end()
    if longest_group < 13:
        return
    for m in _FR_NIR.finditer(text):
        if m.start() and text[m.start() - 1].isdigit():
            continue
        dept = m.group(4).upper().replace("2A", "19").replace("2B", "18")
        body = int(m.group(1) + m.group(2) + m.group(3) + dept + m.group(5) + m.group(6))
        if 97 - body % 97 == int(m.group(7)):
            yield m.span()


def longest_digit_group(text: str) -> int:
    """Digits in the longest group of digits written together (dates do not count)."""
    longest = 1
    for m in _DIGIT_GROUP.finditer(text):
        group = _DATE_SHAPE.sub(" ", m.group()) if m.group().count("-") + m.group().count("/") > 1 else m.group()
        longest = max(longest, sum(map(group.count, "0123456789")))
    return longest


def find_addresses(text: str) -> Iterator[tuple[int, int]]:
    lowered = text.lower()
    if _STREET_WORDS.isdisjoint(lowered.translate(_PUNCT_TO_SPACE).split()) and not any(
        stem in lowered for stem in _STREET_STEMS
    ):
        return
    for rx in (_ADDRESS, _ADDRESS_EU):
        for m in rx.finditer(text):
            yield m.span()


# Validating a candidate costs up to a millisecond; a text with more candidates
# than this (a pasted table of numbers) has the rest redacted on shape alone.
PHONE_VALIDATION_BUDGET = 32


def find_phones(text: str, regions: Sequence[str]) -> Iterator[tuple[int, int]]:
    validated = 0
    for m in _PHONE.finditer(text):
        candidate = m.group().rstrip(" ().-/\u00a0")
        start = m.start()
        if candidate.startswith("(") and ")" not in candidate:
            candidate, start = candidate[1:], start + 1
        digits = sum(c.isdigit() for c in candidate)
        if not 7 <= digits <= 15 or _DATE_SHAPE.search(candidate):
            continue
        validated += 1
        if validated > PHONE_VALIDATION_BUDGET:
            if digits >= 9 and not _REFERENCE_CONTEXT.search(text, max(0, start - 40), start):
                yield start, start + len(candidate)
        elif _is_phone(candidate, text, start, regions):
            yield start, start + len(candidate)


def _is_phone(candidate: str, text: str, start: int, regions: Sequence[str]) -> bool:
    try:
        if candidate.startswith("+"):
            number = phonenumbers.parse(candidate, None)
            return phonenumbers.is_possible_number(number)
        if candidate.startswith("00"):
            number = phonenumbers.parse("+" + candidate[2:], None)
            return phonenumbers.is_valid_number(number)
    except phonenumbers.NumberParseException:
        return False
    if _REFERENCE_CONTEXT.search(text, max(0, start - 40), start):
        return False
    digits = sum(c.isdigit() for c in candidate)
    formatted = not candidate.isdigit()
    if not formatted and digits < 10:
        return False
    if _NANP_SHAPE.fullmatch(candidate):
        return True
    if not (candidate[0] in "0(" or digits >= 9):
        return False
    return _valid_in_a_region(candidate, tuple(regions))


# Regions whose national numbers never start with a trunk "0" (parsing there is wasted work).
_NO_TRUNK_ZERO = frozenset({"US", "CA", "ES"})


@lru_cache(maxsize=8192)
def _valid_in_a_region(candidate: str, regions: tuple[str, ...]) -> bool:
    """`phonenumbers` validation costs tens of µs a region, so answers are remembered."""
    for region in regions:
        if candidate[0] == "0" and region in _NO_TRUNK_ZERO:
            continue
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(candidate, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


def name_pattern(names: Iterable[str]) -> re.Pattern | None:
    folded, exact = set(), set()
    for name in names:
        tokens = [t for t in re.split(r"[\s,]+", name or "") if len(t.strip(".'-")) >= 2]
        if not tokens:
            continue
        if len(tokens) > 1:
            folded.add(r"\s+".join(re.escape(t) for t in tokens))
        for token in tokens:
            (exact if token.lower() in _WORD_LIKE_NAMES else folded).add(re.escape(token))
    exact = {t[0].upper() + t[1:] for t in exact}
    alternatives = [f"(?i:{p})" for p in sorted(folded, key=len, reverse=True)]
    alternatives += sorted(exact, key=len, reverse=True)
    if not alternatives:
        return None
    return re.compile(r"(?<![\w@.])(?:" + "|".join(alternatives) + r")(?![\w@]|\.\w)")


def keep_non_overlapping(spans: Iterable[tuple], length: int) -> list[tuple]:
    """Spans (start, end, ...) in preference order -> the ones that overlap no earlier one, by position.

    An occupancy mask keeps this linear, so a pasted table with hundreds of
    numbers costs no more than its length.
    """
    occupied = bytearray(length)
    kept = []
    for span in spans:
        start, end = span[0], span[1]
        if start < end and occupied.find(1, start, end) == -1:
            occupied[start:end] = b"\x01" * (end - start)
            kept.append(span)
    kept.sort(key=lambda span: span[0])
    return kept
