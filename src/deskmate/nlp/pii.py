"""PII redaction applied to every text before it is stored or indexed.

A regex layer with checksums (Luhn for cards, mod-97 for IBAN and the French
NIR, the DNI/NIE check letter) rather than a statistical recogniser: it is
deterministic, needs no model, and is fast enough for bulk imports. Texts with
no digit and no '@' (most support messages) only pay for the name check;
`phonenumbers` is consulted only for digit runs that a cheap regex already
shaped like a phone number.

Tenant settings read here:
  redact_pii       bool, default true (false: texts are kept as written)
  pii_kinds        kinds to redact, default all (e.g. ["EMAIL", "CARD"])
  pii_identifiers  tenant identifiers: [{"kind": "ORDER_ID", "pattern": "..."}]; a
                   pattern's group "value" (or group 1) is what gets replaced; a bare
                   kind ("ORDER_ID", "ACCOUNT_ID", "USERNAME") uses the built-in patterns below
  phone_regions    regions for numbers written without a country code
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from deskmate.errors import InvalidInput
from deskmate.nlp import pii_detectors as detectors

BUILTIN_KINDS = ("EMAIL", "PHONE", "CARD", "IBAN", "NATIONAL_ID", "ADDRESS", "NAME")
# Overlaps go to the more specific detector; tenant identifiers are explicit
# configuration and win over everything but e-mail addresses.
_PRIORITY = {"EMAIL": 0, "IBAN": 2, "CARD": 3, "NATIONAL_ID": 4, "PHONE": 5, "ADDRESS": 6, "NAME": 7}
_IDENTIFIER_PRIORITY = 1
DEFAULT_PHONE_REGIONS = ("US", "GB", "FR", "DE", "ES", "IN", "IT", "AU")


@dataclass(frozen=True, slots=True)
class PiiSpan:
    kind: str
    start: int
    end: int
    value: str


# Identifier shapes shared with deskmate.nlp.entities: a keyword then a code
# containing at least one digit, or a prefixed code such as ORD-12345.
_CODE = r"(?P<value>(?=[A-Za-z0-9-]*[0-9])[A-Za-z0-9][A-Za-z0-9-]{3,19}[A-Za-z0-9])(?![\w-])"
_KEYWORD_TAIL = r"(?:\s+(?:id|number|no\.?|num|ref|reference))?\s*(?:is\s+|:\s*|#\s*)?#?\s*"
DEFAULT_IDENTIFIER_PATTERNS: dict[str, tuple[str, ...]] = {
    "ORDER_ID": (
        r"(?i:\border" + _KEYWORD_TAIL + ")" + _CODE,
        r"(?<![\w#])#\s?(?P<value>[0-9]{5,12})(?![\w-])",
        r"(?<![\w-])(?P<value>(?:ORD|ORDER|SO|PO)-?[0-9]{4,12})(?![\w-])",
    ),
    "USERNAME": (
        r"(?i:\b(?:user ?name|login|handle|user ?id)\s*(?:is\s+|:\s*|=\s*)?)(?P<value>(?=[\w.-]*[0-9_])[A-Za-z0-9_.-]{3,30})(?![\w@])",
        r"(?<![\w.@])@(?P<value>[A-Za-z0-9_]{2,30})(?![\w@.-])",
    ),
    "ACCOUNT_ID": (
        r"(?i:\b(?:account|acct|customer|member)" + _KEYWORD_TAIL + ")" + _CODE,
        r"(?<![\w-])(?P<value>(?:ACC|ACCT|CUST)-?[0-9]{4,12})(?![\w-])",
    ),
}
# Lower-case substrings without which a built-in pattern cannot match: checked
# first, because keyword patterns are slow to scan for on every message.
IDENTIFIER_HINTS: dict[str, tuple[str, ...]] = dict(
    zip(
        (p for patterns in DEFAULT_IDENTIFIER_PATTERNS.values() for p in patterns),
        [("order",), ("#",), ("ord", "so", "po"), ("user", "login", "handle"), ("@",),
         ("account", "acct", "customer", "member"), ("acc", "cust")],
        strict=True,
    )
)


def _resolve(spans: list[tuple[int, int, int, str]], text: str) -> list[PiiSpan]:
    """Keep the most specific, then the longest, of overlapping spans."""
    spans.sort(key=lambda s: (s[2], s[0] - s[1]))
    return [PiiSpan(kind, s, e, text[s:e]) for s, e, _, kind in detectors.keep_non_overlapping(spans, len(text))]


@dataclass(frozen=True)
class _Policy:
    enabled: bool
    kinds: frozenset[str]
    identifiers: tuple[tuple[str, re.Pattern, tuple[str, ...] | None], ...]  # kind, pattern, hints
    phone_regions: tuple[str, ...]


class Redactor:
    """Finds and replaces PII with typed placeholders such as [EMAIL] or [ORDER_ID]."""

    def __init__(
        self,
        *,
        enabled: bool = True,
        kinds: Iterable[str] | None = None,
        identifiers: Iterable[str | dict] = (),
        names: Iterable[str] = (),
        phone_regions: Iterable[str] = DEFAULT_PHONE_REGIONS,
    ):
        self._policy = _build_policy(_policy_key(enabled, kinds, identifiers, phone_regions))
        self._names = detectors.name_pattern(names) if "NAME" in self._policy.kinds else None

    @classmethod
    def for_tenant(cls, tenant_settings: dict | None, names: Sequence[str] = ()) -> Redactor:
        """The tenant's redactor, cached: the same settings and names give the same object."""
        s = tenant_settings or {}
        key = _policy_key(s.get("redact_pii", True), s.get("pii_kinds"), s.get("pii_identifiers") or (),
                          s.get("phone_regions") or DEFAULT_PHONE_REGIONS)
        return _cached_redactor(key, _names_key(names))

    @property
    def enabled(self) -> bool:
        return self._policy.enabled

    def find(self, text: str) -> list[PiiSpan]:
        if not text:
            return []
        policy, kinds, spans = self._policy, self._policy.kinds, []
        lowered = text.lower() if policy.identifiers else text
        for kind, pattern, hints in policy.identifiers:
            if hints is not None and not any(h in lowered for h in hints):
                continue
            for m in pattern.finditer(text):
                s, e = m.span("value") if "value" in pattern.groupindex else m.span(1 if pattern.groups else 0)
                spans.append((s, e, _IDENTIFIER_PRIORITY, kind))
        if "@" in text and "EMAIL" in kinds:
            spans.extend((m.start(), m.end(), 0, "EMAIL") for m in detectors.EMAIL.finditer(text))
        if detectors.DIGIT.search(text) is not None:
            # Each detector needs a group of digits of some length; most messages
            # with digits ("3 items", "$94.00", "10:30", a date) only get the address check.
            longest = detectors.longest_digit_group(text)
            checks = (
                ("IBAN", 8, lambda: detectors.find_ibans(text)),
                ("CARD", 13, lambda: detectors.find_cards(text)),
                ("NATIONAL_ID", 6, lambda: detectors.find_national_ids(text, longest)),
                ("PHONE", 7, lambda: detectors.find_phones(text, policy.phone_regions)),
                ("ADDRESS", 1, lambda: detectors.find_addresses(text)),
            )
            for kind, min_digits, detect in checks:
                if longest >= min_digits and kind in kinds:
                    spans.extend((s, e, _PRIORITY[kind], kind) for s, e in detect())
        if self._names is not None:
            spans.extend((m.start(), m.end(), _PRIORITY["NAME"], "NAME") for m in self._names.finditer(text))
        return _resolve(spans, text) if spans else []

    def redact(self, text: str) -> str:
        if not text or not self._policy.enabled:
            return text
        spans = self.find(text)
        if not spans:
            return text
        out, last = [], 0
        for span in spans:
            out.append(text[last:span.start])
            out.append(f"[{span.kind}]")
            last = span.end
        out.append(text[last:])
        return "".join(out)

    __call__ = redact


def _names_key(names: Sequence[str] | str) -> tuple[str, ...]:
    if isinstance(names, str):  # one name passed bare
        names = [names]
    return tuple(n.strip() for n in names if n and n.strip())


def _policy_key(enabled, kinds, identifiers, phone_regions) -> tuple:
    idents = []
    for entry in identifiers or ():
        if isinstance(entry, str):
            idents.append((entry.strip().upper(), None))
        elif isinstance(entry, dict) and entry.get("kind"):
            idents.append((str(entry["kind"]).strip().upper(), entry.get("pattern") or None))
        else:
            raise InvalidInput(f"pii_identifiers: each entry needs a 'kind' (got {entry!r})")
    if isinstance(kinds, str):
        kinds = [kinds]
    kinds_key = None if kinds is None else tuple(sorted({str(k).strip().upper() for k in kinds}))
    return bool(enabled), kinds_key, tuple(idents), tuple(str(r).upper() for r in phone_regions)


@lru_cache(maxsize=256)
def _build_policy(key: tuple) -> _Policy:
    enabled, kinds_key, idents, regions = key
    identifiers = []
    for kind, pattern in idents:
        if not re.fullmatch(r"[A-Z][A-Z0-9_]{0,39}", kind):
            raise InvalidInput(f"pii_identifiers: kind {kind!r} must be letters, digits and underscores")
        if pattern is None:
            if kind not in DEFAULT_IDENTIFIER_PATTERNS:
                builtin = ", ".join(DEFAULT_IDENTIFIER_PATTERNS)
                raise InvalidInput(f"pii_identifiers: {kind} needs a 'pattern' (built-in: {builtin})")
            sources = DEFAULT_IDENTIFIER_PATTERNS[kind]
        else:
            sources = (pattern,)
        for source in sources:
            try:
                identifiers.append((kind, re.compile(source), IDENTIFIER_HINTS.get(source)))
            except (re.error, TypeError) as exc:
                raise InvalidInput(f"pii_identifiers: invalid pattern for {kind}: {exc}") from None
    known = set(BUILTIN_KINDS) | {kind for kind, _ in idents}
    if kinds_key is not None and (unknown := set(kinds_key) - known):
        raise InvalidInput(f"pii_kinds: unknown kind(s) {sorted(unknown)}; known: {sorted(known)}")
    kinds = frozenset(known if kinds_key is None else kinds_key)
    identifiers = tuple(entry for entry in identifiers if entry[0] in kinds)
    return _Policy(enabled, kinds, identifiers, regions)


@lru_cache(maxsize=4096)
def _cached_redactor(key: tuple, names: tuple[str, ...]) -> Redactor:
    redactor = Redactor.__new__(Redactor)
    redactor._policy = _build_policy(key)
    redactor._names = detectors.name_pattern(names) if "NAME" in redactor._policy.kinds else None
    return redactor


def find_pii(
    text: str,
    *,
    names: Sequence[str] = (),
    kinds: Iterable[str] | None = None,
    identifiers: Iterable[str | dict] = (),
    phone_regions: Iterable[str] = DEFAULT_PHONE_REGIONS,
) -> list[PiiSpan]:
    """PII spans in `text`, in order; the same detectors the redactor uses."""
    key = _policy_key(True, kinds, identifiers, phone_regions)
    return _cached_redactor(key, _names_key(names)).find(text)


def redact(text: str, *, names: Sequence[str] = (), tenant_settings: dict | None = None) -> str:
    return Redactor.for_tenant(tenant_settings or {}, names=names).redact(text)
