"""Migration 0018 on SQLite and PostgreSQL: units sharing a MID keep the oldest's, the later
ones get a placeholder (settings kept), and the MID is unique from then on; report rows
stored before change times were kept get their own latest time, so write-back reads them in
one pass and not in the next."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.marketing_cloud.report_marks import Page
from peoplesync.marketing_cloud.tables import business_units
from peoplesync.messaging.tables import message_reports
from peoplesync.people.database import alembic_config
from tests.integration.marketing_cloud.test_report_sync import DONE, _info, _seed, _sync


def _to(revision: str, down: bool = False) -> object:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)

    return run


def _unit(name: str, mid: str, minutes: int) -> dict[str, object]:
    return {
        "id": f"id-{name}",
        "name": name,
        "mid": mid,
        "client_id": "cid",
        "auth_url": "https://mc.example.com",
        "client_secret_sealed": "sealed",
        "report_storage": "native",
        "created_at": DONE + timedelta(minutes=minutes),
    }


async def test_units_sharing_a_mid_keep_the_oldests_and_the_mid_is_unique(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_to("0017", down=True))
        await conn.execute(
            sa.insert(business_units),
            [
                _unit("late", "510000042", 5),
                _unit("first", "510000042", 0),
                _unit("third", "510000042", 9),
                _unit("alone", "510000099", 1),
            ],
        )
    async with engine.begin() as conn:
        await conn.run_sync(_to("head"))
    async with engine.connect() as conn:
        rows = await conn.execute(sa.select(business_units.c.name, business_units.c.mid))
        mids = {row.name: row.mid for row in rows}
    assert mids == {
        "first": "510000042",
        "late": "dup1-510000042",
        "third": "dup2-510000042",
        "alone": "510000099",
    }
    with pytest.raises(sa.exc.IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(sa.insert(business_units).values(_unit("again", "510000099", 2)))


async def test_report_rows_without_a_change_time_are_read_by_one_pass_only(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_to("0017", down=True))
    await _seed(engine)
    async with engine.begin() as conn:  # as stored before 0016: no change time
        await conn.execute(sa.update(message_reports).values(changed_at=None))
        await conn.run_sync(_to("head"))
    async with engine.connect() as conn:
        query = sa.select(message_reports.c.message_id, message_reports.c.changed_at)
        times = {row.message_id: row.changed_at for row in await conn.execute(query)}
    assert times == {"s1": DONE, "s2": DONE, "w1": DONE, "x1": DONE}  # their own latest time

    async with _sync(engine, tmp_path, _info()) as (sync, _, _, marks):
        read: list[int] = []
        real = marks.report_page

        async def counted(*args: object) -> Page:
            page = await real(*args)  # type: ignore[arg-type]
            read.append(0 if page.last_key is None else 1)
            return page

        marks.report_page = counted  # type: ignore[method-assign]
        first = await sync.run_once()
        assert first.written["sms"] == 2 and first.written["omni"] == 1
        assert sum(read) > 0
        read.clear()
        second = await sync.run_once()
        assert second.total == 0
        assert read and sum(read) == 0  # no report row read at all
