"""The UTC column type: aware values are stored as the same instant in UTC; naive ones refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from peoplesync.people.tables import UtcDateTime

CHICAGO_WINTER = timezone(timedelta(hours=-6))


def test_utc_and_other_zones_store_the_same_instant() -> None:
    column = UtcDateTime()
    utc = datetime(2026, 12, 5, 14, 0, tzinfo=UTC)
    local = datetime(2026, 12, 5, 8, 0, tzinfo=CHICAGO_WINTER)
    assert column.process_bind_param(utc, sqlite.dialect()) == datetime(2026, 12, 5, 14, 0)
    assert column.process_bind_param(local, sqlite.dialect()) == datetime(2026, 12, 5, 14, 0)
    stored = column.process_bind_param(local, postgresql.dialect())
    assert stored == utc and stored is not None and stored.tzinfo is UTC
    with pytest.raises(ValueError, match="naive"):
        column.process_bind_param(datetime(2026, 12, 5, 14, 0), sqlite.dialect())
