"""The speed-limit ledger: each limit key's next free send slot, kept in ``send_rates``."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from peoplesync.messaging.speed_limit import SpeedLimit, plan_slots
from peoplesync.messaging.tables import send_rates


async def reserve_slots(
    conn: AsyncConnection,
    limit: SpeedLimit | None,
    limit_key: str | None,
    now: datetime,
    count: int,
) -> list[datetime]:
    """Send times for ``count`` messages under ``limit_key``'s speed limit, its next free
    slot moved past them in the same transaction (every time is ``now`` without a limit).

    The key's row is made if missing and locked before it is read (PostgreSQL: ``FOR
    UPDATE``; SQLite: the insert takes the database's write lock), so two transactions
    reserving at once take distinct slots: the second waits for the first to commit."""
    if limit is None or limit_key is None or count == 0:
        return [now] * count
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    await conn.execute(
        insert(send_rates)
        .values(limit_key=limit_key, next_free=now)  # as free as no row at all
        .on_conflict_do_nothing(index_elements=["limit_key"])
    )
    stored = await conn.execute(
        sa.select(send_rates.c.next_free)
        .where(send_rates.c.limit_key == limit_key)
        .with_for_update()
    )
    slots, after = plan_slots(limit, stored.scalar_one(), now, count)
    assert after is not None
    await conn.execute(
        sa.update(send_rates).where(send_rates.c.limit_key == limit_key).values(next_free=after)
    )
    return slots
