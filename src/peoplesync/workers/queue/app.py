"""The procrastinate app: on PostgreSQL for ``peoplesync worker``, in memory for tests,
and procrastinate's own schema applied once per database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from procrastinate import App, PsycopgConnector
from procrastinate.schema import SchemaManager
from procrastinate.testing import InMemoryConnector
from sqlalchemy.engine import make_url

from peoplesync.errors import ConfigurationError
from peoplesync.settings import Settings

# Held while one worker checks for and applies procrastinate's schema, so workers starting
# together on an empty database do not both create it.
SCHEMA_LOCK = 0x5EED_0013
# Held by the one worker recovering stalled jobs: two recoveries at once could put a job back
# in the queue after another worker had taken it again. A session lock, so a worker that
# dies while holding it lets go with its connection.
RECOVERY_LOCK = 0x5EED_0014


def queue_conninfo(settings: Settings) -> str:
    """The libpq URL of the configured PostgreSQL database (the queue lives beside People)."""
    url = make_url(settings.resolved_database_url())
    if url.get_backend_name() != "postgresql":
        raise ConfigurationError(
            "peoplesync worker needs PostgreSQL: the job queue lives in the database",
            hint="set PEOPLESYNC_DATABASE_URL=postgresql+psycopg://user@host/db, or run "
            "peoplesync serve alone (it runs the sync loops in-process on SQLite)",
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_queue_app(settings: Settings) -> App:
    """An app on the configured PostgreSQL database (open it before use)."""
    return App(connector=PsycopgConnector(conninfo=queue_conninfo(settings)))


def memory_queue_app() -> App:
    """An app on procrastinate's in-memory connector: for tests, nothing persists."""
    return App(connector=InMemoryConnector())


async def apply_queue_schema(settings: Settings) -> bool:
    """Create procrastinate's tables unless they exist (True when it created them). Safe to
    run from every worker at start: a PostgreSQL advisory lock keeps them in turn."""
    async with await psycopg.AsyncConnection.connect(
        queue_conninfo(settings), autocommit=True
    ) as conn:
        await conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            found = await (
                await conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")
            ).fetchone()
            if found is not None and found[0]:
                return False
            async with conn.transaction():
                await conn.execute(SchemaManager.get_schema())
            return True
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


@asynccontextmanager
async def recovery_turn(settings: Settings) -> AsyncIterator[bool]:
    """True while this process alone may recover stalled jobs (False: another one does)."""
    async with await psycopg.AsyncConnection.connect(
        queue_conninfo(settings), autocommit=True
    ) as conn:
        row = await (
            await conn.execute("SELECT pg_try_advisory_lock(%s)", (RECOVERY_LOCK,))
        ).fetchone()
        taken = bool(row and row[0])
        try:
            yield taken
        finally:
            if taken:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (RECOVERY_LOCK,))


@asynccontextmanager
async def always_my_turn() -> AsyncIterator[bool]:
    """The recovery turn of a single process (the in-memory queue of tests)."""
    yield True
