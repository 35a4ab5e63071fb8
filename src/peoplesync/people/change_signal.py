"""The change signal: when People changes commit, the loops waiting for them wake.

Every change-log write calls ``announce`` on its open transaction:

- on PostgreSQL it sends ``NOTIFY`` on that transaction, delivered only if it commits, to the
  ``ChangeListener`` sessions of every process and machine on the database;
- on SQLite it marks the connection; when the transaction commits and the connection goes
  back to its pool, the waiters of that database file in this process are woken. A change
  written by another process on the same file reaches nobody: its loops fall back on their
  timer. (``serve`` runs the web app and its workers in one process, so edits made there wake
  its push loops.)

A rolled-back transaction wakes nobody on either database.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from peoplesync.people.change_listener import CHANNEL, ChangeListener
from peoplesync.people.change_waiter import LONGEST, QUIET, ChangeWaiter

_PENDING = "peoplesync.changes_pending"  # written in the open transaction
_COMMITTED = "peoplesync.changes_committed"  # committed, not yet announced


class ListeningWaiter(ChangeWaiter):
    """A change waiter fed by a PostgreSQL LISTEN session."""

    listener: ChangeListener


class _LocalWaiters:
    """The waiters of SQLite databases in this process, by database file.

    Process-wide on purpose: the engines of one process on one file (the web app's, the
    workers') must reach each other's waiters, and nothing else can.
    """

    def __init__(self) -> None:
        self._by_database: dict[str, set[ChangeWaiter]] = {}

    def add(self, database: str, waiter: ChangeWaiter) -> None:
        self._by_database.setdefault(database, set()).add(waiter)

    def discard(self, database: str, waiter: ChangeWaiter) -> None:
        waiters = self._by_database.get(database, set())
        waiters.discard(waiter)
        if not waiters:
            self._by_database.pop(database, None)

    def notify(self, database: str) -> None:
        for waiter in list(self._by_database.get(database, ())):
            waiter.notify()


_LOCAL = _LocalWaiters()


async def announce(conn: AsyncConnection) -> None:
    """Tell waiters, once this transaction commits, that People changed."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.select(sa.func.pg_notify(CHANNEL, sa.func.current_schema())))
    else:
        conn.info[_PENDING] = True


def _database_key(url: URL) -> str:
    database = url.database or ":memory:"
    return database if database == ":memory:" else str(Path(database).resolve())


def watch_commits(engine: AsyncEngine) -> None:
    """Wake this process's waiters of a SQLite database when announced changes commit."""
    key = _database_key(engine.url)

    def committing(conn: Connection) -> None:
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            if conn.info.pop(_PENDING, False):
                conn.info[_COMMITTED] = True

    def rolling_back(conn: Connection) -> None:
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            conn.info.pop(_PENDING, None)
            conn.info.pop(_COMMITTED, None)

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        # Back in the pool means the commit is done: a waiter reading now sees the change.
        if record.info.pop(_COMMITTED, False):
            _LOCAL.notify(key)

    event.listen(engine.sync_engine, "commit", committing)
    event.listen(engine.sync_engine, "rollback", rolling_back)
    event.listen(engine.sync_engine, "checkin", checked_in)


def _conninfo(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def open_waiter(
    engine: AsyncEngine, *, quiet: float = QUIET, longest: float = LONGEST
) -> ChangeWaiter:
    """A waiter woken by People changes committed on ``engine``'s database (close it)."""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            schema = str(await conn.scalar(sa.select(sa.func.current_schema())))

        async def stop_listening() -> None:
            await listening.listener.stop()

        listening = ListeningWaiter(quiet=quiet, longest=longest, on_close=stop_listening)
        listening.listener = ChangeListener(_conninfo(engine.url), schema, listening.notify)
        listening.listener.start()
        return listening
    key = _database_key(engine.url)

    async def leave() -> None:
        _LOCAL.discard(key, local)

    local = ChangeWaiter(quiet=quiet, longest=longest, on_close=leave)
    _LOCAL.add(key, local)
    return local
