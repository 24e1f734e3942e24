"""Amounts and dates as written in support chat, parsed to values a suggestion can use.

Separate from `entities` because both need locale rules (decimal commas,
day-first dates, relative days) that are worth testing on their own.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import date, timedelta

# --- amounts -----------------------------------------------------------------

_SYMBOLS = {"US$": "USD", "CA$": "CAD", "C$": "CAD", "A$": "AUD", "AU$": "AUD", "$": "USD", "€": "EUR", "£": "GBP",
            "¥": "JPY", "₹": "INR"}
_CODES = ("USD EUR GBP INR JPY CAD AUD CHF SEK NOK DKK PLN BRL MXN CNY ZAR NZD SGD HKD").split()
_WORDS = {"dollar": "USD", "dollars": "USD", "bucks": "USD", "euro": "EUR", "euros": "EUR", "pound": "GBP",
          "pounds": "GBP", "quid": "GBP", "rupee": "INR", "rupees": "INR", "yen": "JPY", "cent": "USD", "cents": "USD"}
_NUMBER = r"[0-9]{1,3}(?:[,. \u00a0][0-9]{3})+(?:[.,][0-9]{1,2})?|[0-9]+(?:[.,][0-9]{1,2})?"
_SUFFIXES = ["€", "£", "$", *_CODES, *(c.lower() for c in _CODES), *sorted(_WORDS, key=len, reverse=True)]
# Leading lookbehinds would defeat the regex engine's first-character scan, so
# left boundaries are checked in Python (see find_amounts).
_RUN = r"[0-9](?:[0-9]|[,. \u00a0](?=[0-9]))*"  # a digit run, validated against _NUMBER afterwards
_VALID_NUMBER = re.compile(_NUMBER)
_AMOUNT_PATTERNS = (
    re.compile(rf"(?P<sym>[$€£¥₹])\s?(?P<num>{_RUN})"),
    re.compile(rf"(?P<num>{_RUN})(?P<space>\s?)(?P<suffix>{'|'.join(re.escape(x) for x in _SUFFIXES)})(?![A-Za-z])"),
    re.compile(rf"(?P<code>{'|'.join(_CODES)})\s?(?P<num>{_RUN})"),
)


def parse_number(raw: str) -> float:
    """'1,299.00', '1.299,00', '12,50', '1 299' -> float; the last separator followed by 1-2 digits is decimal."""
    raw = raw.replace("\u00a0", " ").replace(" ", "")
    last = max(raw.rfind(","), raw.rfind("."))
    if last >= 0 and 1 <= len(raw) - last - 1 <= 2:
        whole, frac = raw[:last], raw[last + 1:]
        return float(re.sub(r"[,.]", "", whole) + "." + frac)
    return float(re.sub(r"[,.]", "", raw))


_SYMBOL_CHARS = frozenset("$€£¥₹")
_CURRENCY_HINT = re.compile("|".join(c.lower() for c in _CODES) + "|dollar|buck|euro|pound|quid|rupee|yen|cent")


def find_amounts(text: str) -> Iterator[tuple[int, int, dict]]:
    has_symbol = not _SYMBOL_CHARS.isdisjoint(text)
    has_code_or_word = _CURRENCY_HINT.search(text.lower()) is not None
    wanted = (has_symbol, has_symbol or has_code_or_word, has_code_or_word)
    for pattern, worth_trying in zip(_AMOUNT_PATTERNS, wanted, strict=True):
        if not worth_trying:
            continue
        for m in pattern.finditer(text):
            start, end = m.span()
            groups = m.groupdict()
            number = _VALID_NUMBER.match(groups["num"])
            if "code" in groups:
                if start and text[start - 1].isalpha():
                    continue
                currency = groups["code"]
                end = m.start("num") + number.end()
            elif "suffix" in groups:
                suffix = groups["suffix"]
                if number.end() != len(groups["num"]) or (suffix in _WORDS and not groups["space"]):
                    continue
                if start and (text[start - 1].isalnum() or text[start - 1] in ".,$€£"):
                    continue
                currency = _SYMBOLS.get(suffix) or _WORDS.get(suffix) or suffix.upper()
            else:
                prefix = next((p for p in ("US", "CA", "AU", "A", "C") if text.endswith(p, 0, start)), "")
                start -= len(prefix)
                if start and text[start - 1].isalpha():
                    continue
                currency = _SYMBOLS.get(prefix + groups["sym"], _SYMBOLS[groups["sym"]])
                end = m.start("num") + number.end()
            amount = parse_number(number.group())
            if groups.get("suffix") in ("cent", "cents"):
                amount /= 100
            yield start, end, {"amount": round(amount, 2), "currency": currency}


# --- dates -------------------------------------------------------------------

_MONTHS = {name: i for i in range(1, 13) for name in (calendar.month_name[i].lower(), calendar.month_abbr[i].lower())}
_MONTHS["sept"] = 9
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-9]{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<year>(?:19|20)[0-9]{2}))?"
_WEEKDAYS = {name: i for i, name in enumerate(d.lower() for d in calendar.day_name)}
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "couple of": 2, "few": 3}
_COUNT = r"(?P<count>[0-9]{1,3}|" + "|".join(_NUMBER_WORDS) + r")"
_DATE_PATTERNS = [
    ("iso", re.compile(r"(?<![0-9])(?P<year>(?:19|20)[0-9]{2})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})(?![0-9])")),
    ("numeric", re.compile(r"(?<![0-9/.])(?P<a>[0-9]{1,2})[/.](?P<b>[0-9]{1,2})[/.](?P<year>(?:19|20)?[0-9]{2})(?![0-9/.])")),
    ("month_day", re.compile(rf"(?i:\b{_MONTH}\s+{_DAY}\b{_YEAR})")),
    ("day_month", re.compile(rf"(?i:\b{_DAY}\s+(?:of\s+)?{_MONTH}(?![a-z]){_YEAR})")),
    ("relative_day", re.compile(r"(?i:\b(?P<word>the day before yesterday|day before yesterday|yesterday|today|tonight|"
                                r"tomorrow|the day after tomorrow)\b)")),
    ("relative_span", re.compile(r"(?i:\b(?P<dir>last|next|this) (?P<unit>week|month|year|"
                                 + "|".join(_WEEKDAYS) + r")\b)")),
    ("ago", re.compile(rf"(?i:\b{_COUNT}\s+(?P<unit>days?|weeks?|months?)\s+ago\b)")),
    ("in", re.compile(rf"(?i:\bin\s+{_COUNT}\s+(?P<unit>days?|weeks?)\b)")),
]


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _add_months(d: date, months: int) -> date:
    month_index = d.month - 1 + months
    year, month = d.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _nearest_year(month: int, day: int, reference: date) -> date | None:
    """A date written without a year is the occurrence nearest the reference date."""
    candidates = [d for y in (reference.year - 1, reference.year, reference.year + 1) if (d := _safe_date(y, month, day))]
    return min(candidates, key=lambda d: abs((d - reference).days)) if candidates else None


def _count(raw: str) -> int:
    return int(raw) if raw.isdigit() else _NUMBER_WORDS[raw.lower()]


def _resolve_date(kind: str, g: dict, reference: date, day_first: bool) -> date | None:
    if kind == "iso":
        return _safe_date(int(g["year"]), int(g["month"]), int(g["day"]))
    if kind == "numeric":
        a, b, year = int(g["a"]), int(g["b"]), int(g["year"])
        year = year + 2000 if year < 100 else year
        day, month = (a, b) if (a > 12 or (day_first and b <= 12)) else (b, a)
        return _safe_date(year, month, day)
    if kind in ("month_day", "day_month"):
        month, day = _MONTHS[g["month"].lower()], int(g["day"])
        return _safe_date(int(g["year"]), month, day) if g["year"] else _nearest_year(month, day, reference)
    if kind == "relative_day":
        offsets = {"yesterday": -1, "today": 0, "tonight": 0, "tomorrow": 1}
        word = g["word"].lower()
        offset = -2 if "before" in word else 2 if "after" in word else offsets[word]
        return reference + timedelta(days=offset)
    if kind == "relative_span":
        direction, unit = g["dir"].lower(), g["unit"].lower()
        sign = {"last": -1, "next": 1, "this": 0}[direction]
        if unit == "week":
            return reference + timedelta(days=7 * sign)
        if unit == "month":
            return _add_months(reference, sign)
        if unit == "year":
            return _add_months(reference, 12 * sign)
        delta = (_WEEKDAYS[unit] - reference.weekday()) % 7
        if direction == "last":
            return reference - timedelta(days=(reference.weekday() - _WEEKDAYS[unit]) % 7 or 7)
        return reference + timedelta(days=delta or (7 if direction == "next" else 0))
    count, unit = _count(g["count"]), g["unit"].lower().rstrip("s")
    sign = -1 if kind == "ago" else 1
    if unit == "month":
        return _add_months(reference, sign * count)
    return reference + timedelta(days=sign * count * (7 if unit == "week" else 1))


_MONTH_HINTS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _worth_trying(kind: str, lowered: str, has_digit: bool) -> bool:
    """Cheap substring checks that skip most patterns on most messages."""
    if kind in ("iso", "numeric"):
        return has_digit
    if kind in ("month_day", "day_month"):
        return has_digit and any(m in lowered for m in _MONTH_HINTS)
    if kind == "relative_day":
        return any(w in lowered for w in ("yesterday", "today", "tonight", "tomorrow"))
    if kind == "relative_span":
        return any(w in lowered for w in ("last ", "next ", "this "))
    if kind == "ago":
        return " ago" in lowered
    return "in " in lowered and ("day" in lowered or "week" in lowered)


def find_dates(text: str, reference: date, day_first: bool = False) -> Iterator[tuple[int, int, str]]:
    """(start, end, ISO date) for absolute and relative dates; relative ones count from `reference`."""
    lowered = text.lower()
    has_digit = any(c in lowered for c in "0123456789")
    for kind, pattern in _DATE_PATTERNS:
        if not _worth_trying(kind, lowered, has_digit):
            continue
        for m in pattern.finditer(text):
            resolved = _resolve_date(kind, m.groupdict(), reference, day_first)
            if resolved is not None:
                yield m.start(), m.end(), resolved.isoformat()
