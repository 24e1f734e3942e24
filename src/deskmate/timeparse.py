"""Periods as people type them ('30d', '12w', '6h' or an ISO date), for every domain's CLI, API and pages.

One definition, so "since 30d" means the same on the insights dashboard and on an agent's
scorecard, and a bad value fails with the same clear message (an InvalidInput: 422 / exit code 2).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from deskmate.db import utcnow
from deskmate.errors import InvalidInput

UNITS = {"d": "days", "w": "weeks", "h": "hours"}


def parse_since(value: str | None, *, now: datetime | None = None, field: str | None = None) -> datetime | None:
    """'30d', '12w', '6h' (back from `now`) or an ISO date/time (UTC unless it says otherwise); None stays None.

    `field` names the option in the error message ("since: '3x' is neither ...").
    """
    if not value:
        return None
    value = value.strip()
    if value[-1:].lower() in UNITS and value[:-1].isdigit():
        return (now or utcnow()) - timedelta(**{UNITS[value[-1].lower()]: int(value[:-1])})
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        prefix = f"{field}: " if field else ""
        raise InvalidInput(f"{prefix}{value!r} is neither a duration like 30d / 12w / 6h nor an ISO date") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
