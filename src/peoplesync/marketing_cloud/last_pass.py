"""The last report write-back pass of each business unit: when it ended, the rows written per
kind, the events fired, the rows refused and the error that stopped it, if one did.

Kept in the People database's sync state (one value per unit), so whichever process ran the
pass (``serve``, a ``peoplesync worker``, ``marketing-cloud sync-reports``) the unit's page,
``marketing-cloud list`` and ``/metrics`` show it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import Clock
from peoplesync.people import tables as t
from peoplesync.people.person_rows import set_state

PREFIX = "mc_reports:"  # the sync-state key of a unit's last pass is PREFIX + its name


@dataclass(frozen=True)
class LastPass:
    """One unit's last pass (``error`` set: it stopped on that error)."""

    unit: str
    at: datetime
    written: dict[str, int] = field(default_factory=dict)
    events: int = 0
    refused: int = 0
    error: str | None = None
    by: str = ""  # serve, worker or cli

    @property
    def total(self) -> int:
        return sum(self.written.values())

    def as_json(self) -> dict[str, Any]:
        """The pass as shown by ``marketing-cloud list --json`` and the REST API."""
        return {
            "at": self.at.isoformat(),
            "written": dict(self.written),
            "events": self.events,
            "refused": self.refused,
            "error": self.error,
            "by": self.by,
        }


def from_json(unit: str, value: dict[str, Any]) -> LastPass:
    """A stored pass back (the inverse of :meth:`LastPass.as_json`)."""
    return LastPass(
        unit=unit,
        at=datetime.fromisoformat(str(value["at"])),
        written={str(kind): int(rows) for kind, rows in dict(value.get("written", {})).items()},
        events=int(value.get("events", 0)),
        refused=int(value.get("refused", 0)),
        error=value.get("error"),
        by=str(value.get("by", "")),
    )


class LastPasses:
    """Reads and writes the units' last passes."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    async def record(self, last: LastPass) -> None:
        """Keep ``last`` as its unit's last pass (replacing the one before)."""
        for attempt in range(2):
            try:
                async with self._engine.begin() as conn:
                    await set_state(conn, PREFIX + last.unit, last.as_json(), self._clock.now())
                return
            except sa.exc.IntegrityError:  # another process recorded at the same moment
                if attempt:
                    raise

    async def get(self, unit: str) -> LastPass | None:
        """The unit's last pass, or None before its first."""
        return (await self.all()).get(unit)

    async def all(self) -> dict[str, LastPass]:
        """Every unit's last pass, by unit name."""
        query = sa.select(t.sync_state.c.key, t.sync_state.c.value).where(
            t.sync_state.c.key.startswith(PREFIX, autoescape=True)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        units = ((key[len(PREFIX) :], dict(value)) for key, value in rows)
        return {unit: from_json(unit, value) for unit, value in units}

    async def forget(self, unit: str) -> None:
        """Drop a removed unit's last pass."""
        async with self._engine.begin() as conn:
            await conn.execute(t.sync_state.delete().where(t.sync_state.c.key == PREFIX + unit))
