"""The daily API allowance, long-running request cap, and injected faults."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import datetime

import aiosqlite

from peoplesync.sandbox.salesforce.config import SandboxConfig


class ApiUsage:
    """Counts API calls per UTC day, persistently."""

    def __init__(self, config: SandboxConfig, clock: Callable[[], datetime]) -> None:
        self.config = config
        self.clock = clock
        self._conn: aiosqlite.Connection | None = None
        self.day = ""
        self.used = 0
        self.long_running = asyncio.Semaphore(config.max_concurrent_long_requests)
        self.random = random.Random(config.seed)

    async def open(self) -> None:
        """Read today's count."""
        self._conn = await aiosqlite.connect(self.config.database_path)
        await self._conn.execute(
            "CREATE TABLE IF NOT EXISTS limits_usage (day TEXT PRIMARY KEY, used INTEGER)"
        )
        await self._conn.commit()
        self._roll()
        async with self._conn.execute(
            "SELECT used FROM limits_usage WHERE day = ?", (self.day,)
        ) as cursor:
            row = await cursor.fetchone()
        self.used = int(row[0]) if row else 0

    async def close(self) -> None:
        """Persist and close."""
        if self._conn is not None:
            await self.flush()
            await self._conn.close()
            self._conn = None

    def _roll(self) -> None:
        today = self.clock().strftime("%Y-%m-%d")
        if today != self.day:
            self.day, self.used = today, 0

    @property
    def limit(self) -> int:
        """Today's allowance."""
        return self.config.api_daily_limit

    def spend(self) -> bool:
        """Count one call; False when the allowance is already spent (the call is refused)."""
        self._roll()
        if self.used >= self.limit:
            return False
        self.used += 1
        return True

    def header(self) -> str:
        """The ``Sforce-Limit-Info`` value."""
        return f"api-usage={self.used}/{self.limit}"

    async def flush(self) -> None:
        """Write the count (called periodically and on close)."""
        if self._conn is not None:
            await self._conn.execute(
                "INSERT INTO limits_usage VALUES (?, ?) ON CONFLICT(day) DO UPDATE SET used = excluded.used",
                (self.day, self.used),
            )
            await self._conn.commit()

    def fault(self) -> str | None:
        """A fault to inject for this call, by the knobs: '503', 'timeout', 'lock' or None."""
        knobs = self.config.knobs
        draw = self.random.random()
        if draw < knobs.rate_503:
            return "503"
        draw -= knobs.rate_503
        if draw < knobs.rate_timeout:
            return "timeout"
        draw -= knobs.rate_timeout
        if draw < knobs.rate_lock_error:
            return "lock"
        return None
