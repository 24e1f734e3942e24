"""The bulk writer stores exactly what SQLAlchemy would have stored."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite

from deskmate.db import UTCDateTime
from deskmate.importers.bulk import sqlite_utc_text


@pytest.mark.parametrize("value", [
    None,
    datetime(2026, 5, 1, 10, 0, 5, tzinfo=timezone.utc),
    datetime(2026, 5, 1, 10, 0, 5, 123456, tzinfo=timezone.utc),
    datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
    datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2, minutes=30))),
    datetime(2026, 5, 1, 10, 0, 5),
    datetime(999, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
])
def test_sqlite_time_text_matches_sqlalchemy(value):
    dialect = sqlite.dialect()
    type_ = UTCDateTime()
    expected = type_.dialect_impl(dialect).bind_processor(dialect)(value)
    assert sqlite_utc_text(value) == expected
