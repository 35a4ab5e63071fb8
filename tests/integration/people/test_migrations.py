"""Migrations run in one transaction: a failure (or a kill) in the middle leaves nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.operations import Operations

from peoplesync.people.database import create_engine, migrate


async def tables_of(url: str) -> set[str]:
    engine = create_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: set(sa.inspect(sync).get_table_names()))
    await engine.dispose()
    return names


async def test_a_migration_failing_halfway_leaves_an_empty_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'people.db'}"
    real = Operations.create_table
    made: list[str] = []

    def failing(self: Operations, name: str, *columns: Any, **options: Any) -> Any:
        if len(made) == 3:
            raise RuntimeError("killed")
        made.append(name)
        return real(self, name, *columns, **options)

    monkeypatch.setattr(Operations, "create_table", failing)
    engine = create_engine(url)
    with pytest.raises(RuntimeError, match="killed"):
        await migrate(engine)
    await engine.dispose()
    assert len(made) == 3
    assert await tables_of(url) == set()  # the three tables went with the transaction

    monkeypatch.setattr(Operations, "create_table", real)
    engine = create_engine(url)
    await migrate(engine)
    await migrate(engine)  # idempotent
    await engine.dispose()
    assert {"persons", "alembic_version", *made} <= await tables_of(url)
