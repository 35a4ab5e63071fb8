"""LISTEN for committed People changes on PostgreSQL, on a connection of its own.

The change writer sends ``NOTIFY peoplesync_changes, '<schema>'`` in the transaction that
writes the change log, so PostgreSQL delivers it only when that transaction commits, to every
listening session of the database: other processes and other machines included. A lost
connection is opened again with a growing delay; meanwhile the waiter's timer still runs
passes, and the first notification after a reconnection is made up by waking once (changes
may have committed while nobody listened).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import psycopg

CHANNEL = "peoplesync_changes"
APPLICATION_NAME = "peoplesync-change-listener"

log = logging.getLogger(__name__)


class ChangeListener:
    """One LISTEN session that calls ``wake`` for each change committed in ``schema``."""

    def __init__(
        self,
        conninfo: str,
        schema: str,
        wake: Callable[[], None],
        *,
        retry: float = 0.25,
        longest_retry: float = 10.0,
    ) -> None:
        self._conninfo = conninfo
        self._schema = schema
        self._wake = wake
        self._retry = retry
        self._longest_retry = longest_retry
        self.backend_pid: int | None = None  # the listening session, while connected
        self.listening = asyncio.Event()
        self.connections = 0  # sessions opened so far (reconnections show here)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Listen in the background until ``stop``."""
        self._task = asyncio.create_task(self._run(), name="people-change-listener")

    async def stop(self) -> None:
        """Close the session and end the background task."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        delay = self._retry
        while True:
            before = self.connections
            try:
                await self._listen()
            except (psycopg.Error, OSError) as error:
                # psycopg's messages name host, port and user, never the password.
                reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
                log.warning(
                    "change listener lost its database session (%s: %s); reconnecting in %.2fs",
                    type(error).__name__,
                    reason,
                    delay,
                )
            self.listening.clear()
            self.backend_pid = None
            if self.connections > before:  # it was up: start the delays over
                delay = self._retry
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._longest_retry)

    async def _listen(self) -> None:
        connection = await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True, application_name=APPLICATION_NAME
        )
        async with connection:
            await connection.execute(f"LISTEN {CHANNEL}")
            self.backend_pid = connection.info.backend_pid
            self.connections += 1
            self.listening.set()
            if self.connections > 1:
                self._wake()  # changes may have committed while the session was down
            async for note in connection.notifies():
                if note.payload == self._schema:
                    self._wake()
