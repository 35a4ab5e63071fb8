"""The change waiter: what a push loop awaits between passes instead of a fixed sleep.

``wait(timeout)`` returns as soon as a People change has committed (woken by the change
signal of the database: LISTEN/NOTIFY on PostgreSQL, an in-process signal on SQLite), or when
the timeout passes: the timer stays as a safety net for changes no signal reached.

A lone change (one that finds the waiter idle, e.g. a person edited in the web app) returns
at once: its pass starts without a pause. A burst of commits (an import writes a batch per
transaction) is let settle before the wait returns, so one pass picks up the burst instead of
one pass per commit: the commits that arrive while a pass runs, or a second commit right
behind the first, start the settling.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

# Once woken during a burst, wait this long for its next commit before returning...
QUIET = 0.02
# ...and this long after a lone change that found the waiter idle (0: none; a commit that
# follows it during the pass is a burst, settled by the next wait).
LONE = 0.0
# ...but never longer than this after the first wake, so a steady stream of commits is
# still pushed while it lasts.
LONGEST = 0.25


def settle_left(started: float, now: float, *, quiet: float, longest: float) -> float:
    """How long to wait for more commits of a burst first seen at ``started`` (0: stop)."""
    return max(0.0, min(quiet, longest - (now - started)))


def first_quiet(*, backlog: bool, quiet: float, lone: float) -> float:
    """The settling after the first wake: a burst's ``quiet`` when changes were already
    waiting as the wait began (they committed while the last pass ran), ``lone`` when the
    change found the waiter idle."""
    return quiet if backlog else lone


class ChangeWaiter:
    """Woken by committed People changes; ``close`` when the loop ends."""

    def __init__(
        self,
        *,
        quiet: float = QUIET,
        longest: float = LONGEST,
        lone: float = LONE,
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.quiet = quiet
        self.longest = longest
        self.lone = lone
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
        backlog = self._changed.is_set()
        try:
            await asyncio.wait_for(self._changed.wait(), max(0.0, timeout))
        except TimeoutError:
            return False
        started = self._loop.time()
        quiet = first_quiet(backlog=backlog, quiet=self.quiet, lone=self.lone)
        while True:
            self._changed.clear()
            left = settle_left(started, self._loop.time(), quiet=quiet, longest=self.longest)
            if left <= 0:
                break
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                break
            quiet = self.quiet  # another commit: a burst after all
        self.wakes += 1
        return True

    async def close(self) -> None:
        """Stop listening (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._on_close is not None:
            await self._on_close()
