"""Engines for SQLite and PostgreSQL, and bringing the schema up to date with Alembic."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from peoplesync.people.change_signal import watch_commits

IDLE_PING = 1.0  # seconds a pooled PostgreSQL connection may idle and be used unpinged
_IDLE_SINCE = "peoplesync_idle_since"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """An async engine for ``url``; SQLite files get WAL and foreign keys, parents are created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **options)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        watch_commits(engine)
        return engine
    engine = create_async_engine(url, **options)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Ping a pooled connection at checkout only when it sat idle for ``IDLE_PING`` seconds.

    A connection back from use moments ago is alive; pinging it anyway (``pool_pre_ping``)
    costs a round trip on every checkout, which on a busy event loop is about a millisecond
    of each short transaction's time. One idle longer (the server may have restarted or the
    network dropped it meanwhile) is pinged, and a dead one is replaced before it is used.
    A server lost in the last ``IDLE_PING`` seconds fails one transaction, whose error
    marks the pool's older connections stale, so later checkouts reconnect."""
    sync_engine = engine.sync_engine

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since < IDLE_PING:
            return  # new, or used moments ago
        try:
            alive = sync_engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise DisconnectionError("pooled connection failed its ping") from error
        if not alive:
            raise DisconnectionError("pooled connection failed its ping")

    event.listen(sync_engine.pool, "checkin", checked_in)
    event.listen(sync_engine.pool, "checkout", checkout)


def alembic_config() -> Config:
    """An Alembic configuration pointing at the migrations shipped in the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Apply every pending migration (idempotent) in one transaction: a process killed in the
    middle leaves the database as it was, and concurrent starts wait for each other."""
    async with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            # The sqlite3 driver starts transactions only before DML; without this, each
            # CREATE TABLE would commit on its own and a kill would leave half a schema.
            await connection.exec_driver_sql("BEGIN IMMEDIATE")
        await connection.run_sync(_upgrade)
