"""Migration 0017 on SQLite and PostgreSQL: clicks stored before it keep their click time as
their stored time, except a provider's clicks (their reports may have come late): those get
the migration's time, so the next write-back pass reads them once."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.messaging.links.tables import link_clicks
from peoplesync.people.database import alembic_config

CLICKED = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def _to(revision: str, down: bool = False) -> object:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)

    return run


async def test_clicks_stored_before_0017_get_a_stored_time(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_to("0016", down=True))
    old = sa.table(
        "link_clicks",
        *(sa.column(name) for name in ("code", "message_id", "url", "device_type")),
        sa.column("clicked_at", link_clicks.c.clicked_at.type),
        sa.column("report_key"),
    )
    common = {"message_id": "m1", "url": "https://shop.example/", "device_type": "mobile"}
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(old),
            [
                common | {"code": "ours", "clicked_at": CLICKED, "report_key": None},
                common | {"code": None, "clicked_at": CLICKED, "report_key": "k-1"},
            ],
        )
    before = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.run_sync(_to("head"))
    async with engine.connect() as conn:
        rows = await conn.execute(sa.select(link_clicks.c.code, link_clicks.c.stored_at))
        stored = {row.code: row.stored_at for row in rows}
    assert stored["ours"] == CLICKED
    assert stored[None] >= before.replace(microsecond=0)
