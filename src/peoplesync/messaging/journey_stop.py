"""Stopping a journey's sends: no new messages for its send key; queued ones keep going.

Marketing Cloud's rule (seeds/002, "Journey stopping/pausing limitation"): once messages are
queued, pausing or stopping the journey does not affect their delivery; with a speed limit
they keep going at their spaced times. A stop therefore only refuses new messages for the
key (journey version and activity), and the sender never looks at it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from peoplesync.clock import Clock
from peoplesync.errors import StopError
from peoplesync.messaging.tables import outbound_messages, send_rates

_QUEUED_STATES = ("queued", "sending")


class SendsStoppedError(StopError):
    """New messages for a stopped send key (a stopped journey version's activity)."""

    def __init__(self, limit_key: str) -> None:
        super().__init__(
            f"send key {limit_key!r} is stopped: its journey was stopped, so no new messages "
            "are queued for it (messages already queued are still sent)",
            hint="a new journey version sends under a key of its own",
        )
        self.limit_key = limit_key


async def stop_sends(engine: AsyncEngine, clock: Clock, limit_key: str) -> int:
    """Mark ``limit_key`` stopped; returns how many of its messages are queued and still go."""
    now = clock.now()
    async with engine.begin() as conn:
        found = await conn.execute(
            sa.select(send_rates.c.limit_key).where(send_rates.c.limit_key == limit_key)
        )
        if found.first() is None:
            await conn.execute(
                sa.insert(send_rates).values(limit_key=limit_key, next_free=now, stopped_at=now)
            )
        else:
            await conn.execute(
                sa.update(send_rates)
                .where(send_rates.c.limit_key == limit_key, send_rates.c.stopped_at.is_(None))
                .values(stopped_at=now)
            )
        left = await conn.execute(
            sa.select(sa.func.count()).where(
                outbound_messages.c.limit_key == limit_key,
                outbound_messages.c.state.in_(_QUEUED_STATES),
            )
        )
        return int(left.scalar_one())


async def refuse_if_stopped(conn: AsyncConnection, limit_key: str) -> None:
    """Raise ``SendsStoppedError`` when ``limit_key`` was stopped (inside the enqueue)."""
    stopped = await conn.execute(
        sa.select(send_rates.c.stopped_at).where(send_rates.c.limit_key == limit_key)
    )
    if stopped.scalar_one_or_none() is not None:
        raise SendsStoppedError(limit_key)
