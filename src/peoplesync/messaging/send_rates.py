"""The speed-limit ledger: each limit key's next free send slot, kept in ``send_rates``."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
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
    slot moved past them in the same transaction (every time is ``now`` without a limit)."""
    if limit is None or limit_key is None or count == 0:
        return [now] * count
    stored = await conn.execute(
        sa.select(send_rates.c.next_free).where(send_rates.c.limit_key == limit_key)
    )
    next_free = stored.scalar_one_or_none()
    slots, after = plan_slots(limit, next_free, now, count)
    assert after is not None
    if next_free is None:
        await conn.execute(sa.insert(send_rates).values(limit_key=limit_key, next_free=after))
    else:
        await conn.execute(
            sa.update(send_rates).where(send_rates.c.limit_key == limit_key).values(next_free=after)
        )
    return slots
