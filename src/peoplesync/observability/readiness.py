"""Readiness: the People database answers and its schema is at the shipped migration head."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.people.database import alembic_config


@dataclass(frozen=True)
class Readiness:
    """Whether the process can serve, and why not."""

    ready: bool
    reason: str
    revision: str | None = None


@cache
def migration_head() -> str:
    """The newest migration shipped with this version."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return str(head)


async def check_ready(engine: AsyncEngine, *, within: float = 5.0) -> Readiness:
    """Ready when the database answers within ``within`` seconds and is migrated to the head."""
    try:
        async with asyncio.timeout(within), engine.connect() as conn:
            present = await conn.run_sync(
                lambda sync: sa.inspect(sync).has_table("alembic_version")
            )
            if not present:
                return Readiness(False, "the database is not migrated")
            revision = await conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
    except TimeoutError:
        return Readiness(False, "the database did not answer in time")
    except (OSError, sa.exc.SQLAlchemyError) as error:
        return Readiness(False, f"the database cannot be reached ({type(error).__name__})")
    head = migration_head()
    if revision != head:
        return Readiness(False, f"the database is at migration {revision}, not {head}", revision)
    return Readiness(True, "ok", revision)
