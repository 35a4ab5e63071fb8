"""Two transactions reserving speed-limit slots under one key at the same moment, on
PostgreSQL: the second waits for the first's commit and takes the slots after its, never the
same ones (the key's row is locked before it is read)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.messaging.send_rates import reserve_slots
from peoplesync.messaging.speed_limit import SpeedLimit, TimeUnit
from peoplesync.messaging.tables import send_rates

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
LIMIT = SpeedLimit(2, TimeUnit.MINUTE)


async def _waiting_for_a_lock(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        waiting = await conn.execute(sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
        return bool(waiting.scalar())


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
@pytest.mark.parametrize("row", ["made-before", "made-by-the-first"])
async def test_two_reservers_at_once_take_distinct_slots(engine: AsyncEngine, row: str) -> None:
    assert engine.dialect.name == "postgresql"  # SQLite writers take its one write lock
    if row == "made-before":
        async with engine.begin() as conn:
            await conn.execute(sa.insert(send_rates).values(limit_key="journey", next_free=NOW))
    first = await engine.connect()
    await first.begin()
    mine = await reserve_slots(first, LIMIT, "journey", NOW, 2)

    async def second() -> list[datetime]:
        async with engine.begin() as conn:
            return await reserve_slots(conn, LIMIT, "journey", NOW, 2)

    other = asyncio.create_task(second())
    for _ in range(2000):  # until the second is blocked by the first's lock (or done)
        if other.done() or await _waiting_for_a_lock(engine):
            break
        await asyncio.sleep(0.005)
    await first.commit()
    await first.close()
    theirs = await other
    assert mine == [NOW, NOW + timedelta(seconds=30)]
    assert theirs == [NOW + timedelta(seconds=60), NOW + timedelta(seconds=90)]
    async with engine.connect() as conn:
        stored = await conn.execute(sa.select(send_rates.c.next_free))
        assert stored.scalar_one() == NOW + timedelta(seconds=120)
