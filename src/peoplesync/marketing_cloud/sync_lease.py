"""One report write-back pass per business unit at a time, across processes: a lease row per
unit on the People database (SQLite or PostgreSQL).

Taking the lease is one conditional write: insert the unit's row, or take it over when its
lease has run out (a holder killed mid-pass) or is already ours. Two processes racing for it
both try the same write; the database lets one win (the primary key, or the ``WHERE`` of the
update re-checked under the row lock). The holder renews it page by page and event by
event; a holder that finds it taken over stops with ``LeaseLostError``.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import Clock
from peoplesync.errors import LeaseLostError
from peoplesync.marketing_cloud.tables import sync_leases

_l = sync_leases


class SyncLease:
    """The write-back lease of one unit, held by this object's holder id."""

    def __init__(
        self, engine: AsyncEngine, clock: Clock, unit: str, *, seconds: float = 120.0
    ) -> None:
        self._engine = engine
        self._clock = clock
        self.unit = unit
        self.holder = uuid.uuid4().hex
        self._length = timedelta(seconds=seconds)

    async def acquire(self) -> bool:
        """Take the lease (or extend ours); ``False`` when another holder's is running."""
        now = self._clock.now()
        until = now + self._length
        async with self._engine.begin() as conn:
            taken = await conn.execute(
                sa.update(_l)
                .where(_l.c.unit == self.unit)
                .where(sa.or_(_l.c.holder == self.holder, _l.c.lease_until < now))
                .values(holder=self.holder, lease_until=until)
            )
            if taken.rowcount:
                return True
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    sa.insert(_l).values(unit=self.unit, holder=self.holder, lease_until=until)
                )
        except sa.exc.IntegrityError:
            return False  # the row exists: another holder's lease is running
        return True

    async def renew(self) -> None:
        """Extend our lease; ``LeaseLostError`` if another holder took it over."""
        if not await self._extend():
            raise LeaseLostError(
                f"the report write-back lease of business unit {self.unit!r} was taken over "
                "by another process (this pass ran past its lease)",
                hint="nothing is lost: the next pass starts from the rows not marked written",
            )

    async def _extend(self) -> bool:
        async with self._engine.begin() as conn:
            kept = await conn.execute(
                sa.update(_l)
                .where(_l.c.unit == self.unit, _l.c.holder == self.holder)
                .values(lease_until=self._clock.now() + self._length)
            )
        return bool(kept.rowcount)

    async def release(self) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                sa.delete(_l).where(_l.c.unit == self.unit, _l.c.holder == self.holder)
            )

    async def holder_until(self) -> datetime | None:
        """When the current holder's lease runs out (``None``: no holder)."""
        async with self._engine.connect() as conn:
            return (
                await conn.execute(sa.select(_l.c.lease_until).where(_l.c.unit == self.unit))
            ).scalar()
