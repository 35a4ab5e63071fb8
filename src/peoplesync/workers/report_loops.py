"""``serve``'s report write-back: one loop per business unit, kept in step with the stored
units (a unit added in the web app starts being written back without a restart; a removed one
stops), each running a pass every ``interval`` seconds and a growing delay after failures.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from typing import Any

from peoplesync.errors import PeopleSyncError
from peoplesync.observability.heartbeats import Heartbeats
from peoplesync.observability.log_format import log_context
from peoplesync.workers.outcome import Failed
from peoplesync.workers.report_sync import LOOP, Said, UnitPasses, next_wait, summary

BACKOFF_CAP = 300.0  # seconds: the longest wait after failed passes in a row
STOP_GRACE = 8.0  # seconds passes under way get to end once the loops stop (then cancelled)


class ReportLoops:
    """The write-back loops of every business unit, in this process."""

    def __init__(
        self,
        passes: UnitPasses,
        heartbeats: Heartbeats,
        stopping: asyncio.Event,
        *,
        say: Callable[[str], Any],
        interval: float,
        check_every: float = 2.0,
    ) -> None:
        self.passes = passes
        self.heartbeats = heartbeats
        self.stopping = stopping
        self.say = say
        self.interval = interval
        self.check_every = check_every
        self._loops: dict[str, asyncio.Task[None]] = {}

    def running(self) -> list[str]:
        """The units whose loop is up."""
        return sorted(name for name, task in self._loops.items() if not task.done())

    async def run(self) -> None:
        """Keep one loop per stored unit until ``stopping`` is set; then end them."""
        try:
            while not self.stopping.is_set():
                try:
                    await self._follow_units()
                except Exception as error:  # the database is busy or away: look again
                    said = error if isinstance(error, PeopleSyncError) else type(error).__name__
                    self.say(f"report write-back cannot read the business units ({said})")
                await self._rest(self.check_every)
        finally:
            loops = list(self._loops.values())
            self._loops.clear()
            if loops and self.stopping.is_set():  # let passes under way end by themselves
                await asyncio.wait(loops, timeout=STOP_GRACE)
            await self._end(loops)

    async def _follow_units(self) -> None:
        names = set(await self.passes.names())
        for name in sorted(names):
            task = self._loops.get(name)
            if task is None or task.done():
                self._loops[name] = asyncio.create_task(self._keep(name))
        for name in sorted(set(self._loops) - names):
            self.say(f"{name}: the business unit is gone; its report write-back stops")
            await self._end([self._loops.pop(name)])
            await self.passes.forget(name)
            self.heartbeats.forget(name, LOOP)

    async def _end(self, tasks: list[asyncio.Task[None]]) -> None:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _rest(self, seconds: float) -> bool:
        """Sleep (False), or less when the loops stop meanwhile (True)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)
        return self.stopping.is_set()

    async def _keep(self, name: str) -> None:
        failures = 0
        with log_context(unit=name, loop=LOOP):
            self.say(f"{name}: report write-back started")
            while not self.stopping.is_set():
                self.heartbeats.beat(name, LOOP)
                with log_context(job=f"{LOOP}-{uuid.uuid4().hex[:12]}"):
                    outcome = await self._one(name)
                    said = summary(name, outcome)
                    wait, failures = next_wait(outcome, self.interval, failures, BACKOFF_CAP)
                    if said is not None:
                        self.say(f"{said}; retrying in {wait:g} s" if failures else said)
                if await self._beating_rest(name, wait):
                    return

    async def _one(self, name: str) -> Said:
        try:
            return await self.passes.run(name)
        except Exception as error:  # a bug in a pass: say it, try again later
            return Failed(error)

    async def _beating_rest(self, name: str, seconds: float) -> bool:
        """Rest ``seconds``, beating every ``check_every`` (True: stopping)."""
        left = seconds
        while left > 0:
            step = min(left, self.check_every)
            if await self._rest(step):
                return True
            left -= step
            self.heartbeats.beat(name, LOOP)
        return self.stopping.is_set()


__all__ = ["ReportLoops"]
