"""The change waiter: what a push loop awaits between passes instead of a fixed sleep.

``wait(timeout)`` returns as soon as a People change has committed (woken by the change
signal of the database: LISTEN/NOTIFY on PostgreSQL, an in-process signal on SQLite), or when
the timeout passes: the timer stays as a safety net for changes no signal reached. A burst of
commits (an import writes a batch per transaction) is let settle before the wait returns, so
one pass picks up the burst instead of one pass per commit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

# Once woken, wait this long for the next commit of a burst before returning...
QUIET = 0.02
# ...but never longer than this after the first wake, so a steady stream of commits is
# still pushed while it lasts.
LONGEST = 0.25


def settle_left(started: float, now: float, *, quiet: float, longest: float) -> float:
    """How long to wait for more commits of a burst first seen at ``started`` (0: stop)."""
    return max(0.0, min(quiet, longest - (now - started)))


class ChangeWaiter:
    """Woken by committed People changes; ``close`` when the loop ends."""

    def __init__(
        self,
        *,
        quiet: float = QUIET,
        longest: float = LONGEST,
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.quiet = quiet
        self.longest = longest
        self.wakes = 0  # waits that ended on a change (not on the timer)
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        self._on_close = on_close
        self._closed = False

    def notify(self) -> None:
        """A change committed (callable from any thread of the process)."""
        if self._closed:
            return
        with contextlib.suppress(RuntimeError):  # the waiter's loop has ended
            self._loop.call_soon_threadsafe(self._changed.set)

    async def wait(self, timeout: float) -> bool:  # noqa: ASYNC109 (the timer is the point)
        """Until a change commits and its burst settles (True), or ``timeout`` seconds pass
        without one (False)."""
        try:
            await asyncio.wait_for(self._changed.wait(), max(0.0, timeout))
        except TimeoutError:
            return False
        started = self._loop.time()
        while True:
            self._changed.clear()
            left = settle_left(started, self._loop.time(), quiet=self.quiet, longest=self.longest)
            if left <= 0:
                break
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                break
        self.wakes += 1
        return True

    async def close(self) -> None:
        """Stop listening (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._on_close is not None:
            await self._on_close()
