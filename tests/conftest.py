"""Shared fixtures: a migrated People store on SQLite and on PostgreSQL."""

from __future__ import annotations

import compileall
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import ManualClock
from peoplesync.people.database import create_engine, migrate
from peoplesync.people.sql_store import SqlPeopleStore

SOURCES = Path(__file__).resolve().parent.parent / "src"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Write the package's bytecode once, before tests start processes. With
    PYTHONDONTWRITEBYTECODE set (as in this machine's shells) every `peoplesync` process the
    tests start would otherwise compile the package's modules again: about half a second of
    CPU a start. Modules already compiled and unchanged are skipped."""
    compileall.compile_dir(SOURCES, quiet=1, workers=1)


POSTGRES_URL = os.environ.get(
    "PEOPLESYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


async def _postgres_schema() -> str:
    """Create a fresh schema for one test; fail in CI, skip elsewhere, when unreachable."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(POSTGRES_URL)
    try:
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except (OSError, sa.exc.OperationalError) as exc:
        message = f"PostgreSQL is unreachable at {POSTGRES_URL}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    finally:
        await admin.dispose()
    return schema


async def _drop_schema(schema: str) -> None:
    admin = create_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    await admin.dispose()


def postgres_engine(schema: str) -> AsyncEngine:
    """An engine whose connections use ``schema``."""
    return create_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})


class _Migrated:
    """The migrated schema, built once a session by the real migrations and copied per test.

    Running Alembic for each test cost about a second on PostgreSQL (hundreds of DDL round
    trips, script loading) and half a second on SQLite. The first test of a session runs the
    migrations as every database does and records each statement the driver is given; later
    tests replay that record in their own new schema (one round trip for each run of statements
    without parameters). On SQLite the first migrated file is the template each test copies."""

    statements: list[tuple[str, Any]] | None = None
    sqlite_file: Path | None = None


async def _record_migration(engine: AsyncEngine) -> list[tuple[str, Any]]:
    """Migrate ``engine``'s empty database; the statements it ran, runs without parameters
    joined into one script."""
    seen: list[tuple[str, Any]] = []

    def before(_c: Any, _cur: Any, statement: str, parameters: Any, _x: Any, _m: bool) -> None:
        seen.append((statement.strip(), parameters or None))

    sa.event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        await migrate(engine)
    finally:
        sa.event.remove(engine.sync_engine, "before_cursor_execute", before)
    script: list[tuple[str, Any]] = []
    for statement, parameters in seen:
        if parameters is None and script and script[-1][1] is None:
            script[-1] = (f"{script[-1][0]};\n{statement}", None)
        else:
            script.append((statement, parameters))
    return script


async def _migrated_postgres_schema() -> str:
    schema = await _postgres_schema()
    engine = postgres_engine(schema)
    try:
        if _Migrated.statements is None:
            _Migrated.statements = await _record_migration(engine)
        else:
            async with engine.begin() as conn:
                for statement, parameters in _Migrated.statements:
                    await conn.exec_driver_sql(statement, parameters)
    finally:
        await engine.dispose()
    return schema


async def _migrated_sqlite_file(path: Path, base: Path) -> None:
    if _Migrated.sqlite_file is None:
        template = base / "migrated-template.db"
        engine = create_engine(f"sqlite+aiosqlite:///{template}")
        await migrate(engine)
        await engine.dispose()  # the last connection's close folds the WAL into the file
        _Migrated.sqlite_file = template
    shutil.copyfile(_Migrated.sqlite_file, path)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A URL of an empty, migrated database (the schema is in the URL's search path)."""
    if request.param == "sqlite":
        await _migrated_sqlite_file(tmp_path / "people.db", tmp_path_factory.getbasetemp())
        yield f"sqlite+aiosqlite:///{tmp_path / 'people.db'}"
        return
    schema = await _migrated_postgres_schema()
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        await _drop_schema(schema)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the migrated test database."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def clock() -> ManualClock:
    """A clock that only moves when a test moves it."""
    return ManualClock()


@pytest.fixture
def store(engine: AsyncEngine, clock: ManualClock) -> SqlPeopleStore:
    """A People store on the test database, small batches so tests cross batch borders."""
    return SqlPeopleStore(engine, clock, batch_size=50, default_phone_region="US")
