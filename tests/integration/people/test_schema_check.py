"""The migrations and the one metadata (every table: People, sync, web accounts, messaging)
describe the same schema: Alembic's autogenerate finds nothing to add or drop."""

from __future__ import annotations

import warnings
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.people.tables import RAW_SQL_INDEXES
from peoplesync.schema import metadata


def _compared(target: sa.MetaData) -> Any:
    def include(item: Any, name: str | None, kind: str, _reflected: bool, _other: Any) -> bool:
        return not (kind == "index" and name in RAW_SQL_INDEXES)

    def compare(connection: sa.Connection) -> Any:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include}
        )
        with warnings.catch_warnings():
            # PostgreSQL's reflection skips expression indexes (the raw ones above) loudly.
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
            return compare_metadata(context, target)

    return compare


async def test_the_migrations_make_exactly_the_tables_the_metadata_declares(
    engine: AsyncEngine,
) -> None:
    names = set(metadata.tables)
    assert {"persons", "sync_status", "transfer_jobs", "web_users", "outbound_messages"} <= names
    assert "worker_job_runs" in names  # the job log's table, without importing the workers
    async with engine.connect() as connection:
        differences = await connection.run_sync(_compared(metadata))
    assert differences == []


async def test_the_check_sees_a_column_the_migrations_lack(engine: AsyncEngine) -> None:
    changed = sa.MetaData()
    for table in metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["web_users"].append_column(sa.Column("nickname", sa.String(40)))
    async with engine.connect() as connection:
        differences = await connection.run_sync(_compared(changed))
    assert [(d[0], d[3].name) for d in differences] == [("add_column", "nickname")]
