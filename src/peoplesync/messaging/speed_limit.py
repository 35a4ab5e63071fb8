"""Sending speed limits: N messages a minute, hour or day, spread evenly. Pure.

A limit belongs to one (journey version, activity) key, as journeys use them: a new journey
version or a second activity has a limit of its own. Each message gets a slot ``interval``
after the previous one (500 an hour: one every 7.2 s); the next free slot is stored with the
messages, so a restart keeps the spacing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

MIN_AMOUNT = 1
MAX_AMOUNT = 100_000


class TimeUnit(StrEnum):
    MINUTE = "MINUTE"
    HOUR = "HOUR"
    DAY = "DAY"


_SECONDS = {TimeUnit.MINUTE: 60, TimeUnit.HOUR: 3600, TimeUnit.DAY: 86400}


@dataclass(frozen=True)
class SpeedLimit:
    """At most ``amount`` messages per ``unit``."""

    amount: int
    unit: TimeUnit

    def __post_init__(self) -> None:
        if not MIN_AMOUNT <= self.amount <= MAX_AMOUNT:
            raise ValueError(
                f"a sending speed limit is {MIN_AMOUNT} to {MAX_AMOUNT:,} messages "
                f"per {self.unit.value.lower()}, not {self.amount}"
            )

    @property
    def interval(self) -> timedelta:
        return timedelta(seconds=_SECONDS[self.unit] / self.amount)


def plan_slots(
    limit: SpeedLimit | None, next_free: datetime | None, now: datetime, count: int
) -> tuple[list[datetime], datetime | None]:
    """Send times for ``count`` new messages, and the next free slot after them.

    Without a limit every message may go now. With one, the first goes at the later of now
    and the stored next free slot, the others an interval apart.
    """
    if limit is None:
        return [now] * count, next_free
    start = now if next_free is None or next_free < now else next_free
    unit = _SECONDS[limit.unit] * 1_000_000
    # Whole microseconds, rounded up: a window of one unit never holds more than the amount.
    slots = [
        start + timedelta(microseconds=-(-index * unit // limit.amount)) for index in range(count)
    ]
    return slots, start + timedelta(microseconds=-(-count * unit // limit.amount))
