"""Committed People changes wake the change waiters: LISTEN/NOTIFY across connections and
processes on PostgreSQL, an in-process signal on SQLite; rollbacks wake nobody."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import ManualClock
from peoplesync.people.change_log import ChangeWriter
from peoplesync.people.change_signal import ListeningWaiter, open_waiter
from peoplesync.people.change_waiter import ChangeWaiter
from peoplesync.people.database import create_engine
from peoplesync.people.model import PersonInput
from peoplesync.people.sql_store import SqlPeopleStore

# Long enough that a wake cannot be the timer: the waits below end on a change or fail.
NEVER = 60.0


@pytest.fixture
async def other(database_url: str) -> AsyncIterator[SqlPeopleStore]:
    """A second store on the same database, with its own engine and connections."""
    engine = create_engine(database_url)
    yield SqlPeopleStore(engine, ManualClock(), batch_size=50)
    await engine.dispose()


@pytest.fixture
async def waiter(store: SqlPeopleStore) -> AsyncIterator[ChangeWaiter]:
    opened = await store.change_waiter()
    if isinstance(opened, ListeningWaiter):  # the LISTEN session must be up before changes
        await asyncio.wait_for(opened.listener.listening.wait(), NEVER)
    yield opened
    await opened.close()


async def add_person(store: SqlPeopleStore, name: str) -> None:
    await store.upsert_persons([PersonInput(values={"last_name": name})], origin="ui")


async def write_and_roll_back(store: SqlPeopleStore) -> None:
    async with store.engine.begin() as conn:
        await ChangeWriter(conn, store.clock.now(), "ui").write_one(
            "person", "p-rolled-back", "create", 1, {"last_name": "Nobody"}
        )
        raise RuntimeError("changed my mind")


async def test_a_commit_on_another_connection_wakes_the_waiter(
    waiter: ChangeWaiter, other: SqlPeopleStore
) -> None:
    await add_person(other, "Lovelace")
    assert await waiter.wait(timeout=NEVER) is True
    assert waiter.wakes == 1


async def test_a_rolled_back_change_wakes_nobody(
    waiter: ChangeWaiter, other: SqlPeopleStore
) -> None:
    with pytest.raises(RuntimeError, match="changed my mind"):
        await write_and_roll_back(other)
    # A NOTIFY of a rolled-back transaction is never delivered; the SQLite signal would have
    # been set before this wait started (the connection went back to its pool already).
    assert await waiter.wait(timeout=0.5) is False
    await add_person(other, "Afterwards")  # the waiter still works: the control
    assert await waiter.wait(timeout=NEVER) is True
    assert waiter.wakes == 1


async def test_a_burst_of_commits_is_one_wake(store: SqlPeopleStore) -> None:
    # batch_size 50: 400 persons commit in 8 transactions before the wait starts.
    waiter = await store.change_waiter()
    try:
        if isinstance(waiter, ListeningWaiter):
            await asyncio.wait_for(waiter.listener.listening.wait(), NEVER)
            waiter.quiet = 1.0  # notifications arrive one by one through the session
            waiter.lone = 1.0  # the first may find the waiter idle: settle after it too
            waiter.longest = NEVER
        await store.upsert_persons(
            [PersonInput(values={"last_name": f"P{i}"}) for i in range(400)], origin="import"
        )
        assert await waiter.wait(timeout=NEVER) is True
        assert await waiter.wait(timeout=0.2) is False
        assert waiter.wakes == 1
    finally:
        await waiter.close()


async def test_without_a_change_the_timer_ends_the_wait(waiter: ChangeWaiter) -> None:
    assert await waiter.wait(timeout=0.05) is False
    assert waiter.wakes == 0


async def test_a_closed_waiter_is_no_longer_woken(
    store: SqlPeopleStore, other: SqlPeopleStore
) -> None:
    waiter = await store.change_waiter()
    await waiter.close()
    await waiter.close()  # idempotent
    await add_person(other, "Late")
    assert await waiter.wait(timeout=0.2) is False


async def test_sqlite_waiters_of_another_database_stay_asleep(
    tmp_path: os.PathLike[str],
) -> None:
    engines = [create_engine(f"sqlite+aiosqlite:///{tmp_path}/{n}.db") for n in ("a", "b")]
    try:
        for engine in engines:
            async with engine.begin() as conn:
                await conn.run_sync(_change_log_only)
        waiter_a = await open_waiter(engines[0])
        async with engines[1].begin() as conn:
            await ChangeWriter(conn, ManualClock().now(), "ui").write_one(
                "person", "p1", "create", 1, {}
            )
        assert await waiter_a.wait(timeout=0.2) is False
        async with engines[0].begin() as conn:
            await ChangeWriter(conn, ManualClock().now(), "ui").write_one(
                "person", "p1", "create", 1, {}
            )
        assert await waiter_a.wait(timeout=NEVER) is True
        await waiter_a.close()
    finally:
        for engine in engines:
            await engine.dispose()


def _change_log_only(connection: sa.Connection) -> None:
    from peoplesync.people import tables

    tables.change_log.create(connection)


ON_POSTGRES = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


@pytest.mark.postgres
@ON_POSTGRES
async def test_postgres_a_commit_in_another_process_wakes_the_waiter(
    database_url: str, waiter: ChangeWaiter
) -> None:
    script = textwrap.dedent(
        """
        import asyncio, sys
        from peoplesync.clock import SystemClock
        from peoplesync.people.database import create_engine
        from peoplesync.people.model import PersonInput
        from peoplesync.people.sql_store import SqlPeopleStore

        async def main():
            engine = create_engine(sys.argv[1])
            store = SqlPeopleStore(engine, SystemClock())
            await store.upsert_persons([PersonInput(values={"last_name": "Far"})], origin="ui")
            await engine.dispose()

        asyncio.run(main())
        """
    )
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", script, database_url], capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()
    assert await waiter.wait(timeout=NEVER) is True


@pytest.mark.postgres
@ON_POSTGRES
async def test_postgres_listener_reconnects_after_losing_its_session(
    waiter: ChangeWaiter, other: SqlPeopleStore, engine: AsyncEngine
) -> None:
    assert isinstance(waiter, ListeningWaiter)
    listener = waiter.listener
    first_pid = listener.backend_pid
    async with engine.connect() as conn:
        await conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid})
    # The reconnection wakes once by itself (changes may have been missed meanwhile)...
    assert await waiter.wait(timeout=NEVER) is True
    assert listener.connections == 2
    assert listener.backend_pid not in (None, first_pid)
    # ...and commits are heard again on the new session.
    await add_person(other, "AfterReconnect")
    assert await waiter.wait(timeout=NEVER) is True
    assert waiter.wakes == 2
