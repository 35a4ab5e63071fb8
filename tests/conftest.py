"""Shared fixtures: a migrated People store on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import ManualClock
from peoplesync.people.database import create_engine, migrate
from peoplesync.people.sql_store import SqlPeopleStore

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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A URL of an empty, migrated database (the schema is in the URL's search path)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'people.db'}"
        engine = create_engine(url)
        await migrate(engine)
        await engine.dispose()
        yield url
        return
    schema = await _postgres_schema()
    engine = postgres_engine(schema)
    await migrate(engine)
    await engine.dispose()
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
