"""The shared period parser: durations back from now, ISO dates in UTC, a clear error otherwise."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from deskmate.errors import InvalidInput
from deskmate.timeparse import parse_since

NOW = datetime(2026, 8, 3, 12, tzinfo=timezone.utc)


def test_durations_count_back_from_now():
    assert parse_since("30d", now=NOW) == NOW - timedelta(days=30)
    assert parse_since(" 2W ", now=NOW) == NOW - timedelta(weeks=2)
    assert parse_since("6h", now=NOW) == NOW - timedelta(hours=6)


def test_iso_dates_are_utc_unless_they_say_otherwise():
    assert parse_since("2026-07-01") == datetime(2026, 7, 1, tzinfo=timezone.utc)
    assert parse_since("2026-07-01T10:00:00Z") == datetime(2026, 7, 1, 10, tzinfo=timezone.utc)
    assert parse_since("2026-07-01T10:00:00+02:00").utcoffset() == timedelta(hours=2)
    assert parse_since(None) is None and parse_since("") is None


def test_bad_input_names_the_option():
    with pytest.raises(InvalidInput, match=r"^since: '3x' is neither a duration"):
        parse_since("3x", field="since")
    with pytest.raises(InvalidInput, match=r"^'soon' is neither"):
        parse_since("soon")
