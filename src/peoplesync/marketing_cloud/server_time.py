"""Marketing Cloud's clock: Central Standard Time, UTC-6 all year, written without an offset.

Dates sent without an offset are read as server time, so peoplesync converts every UTC time
it writes into a data extension or an out-argument to UTC-6 first.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

SERVER_ZONE = timezone(timedelta(hours=-6), "CST")


def server_time(moment: datetime) -> str:
    """``moment`` as Marketing Cloud's server time, ``YYYY-MM-DDTHH:MM:SS.fff`` without offset."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    local = aware.astimezone(SERVER_ZONE)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}"


def from_server_time(text: str) -> datetime:
    """A server time without offset (``2017-10-27T16:00:38.98``) as an aware UTC datetime."""
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SERVER_ZONE)
    return parsed.astimezone(UTC)
