"""Migration 0020 on SQLite and PostgreSQL: update attempts saved in the old sync-state value
(a push died with updates in flight) move to their table, one row a record, and the value
goes."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.people import tables as t

from .test_create_attempts_migration import _to

AT = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)


async def test_update_attempts_saved_in_the_old_state_value_move_to_their_table(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_to("0019", down=True))
        old = {
            "00Q000000000001": {"object": "Lead", "at": AT.isoformat(), "values": {"City": "Rome"}},
            "003000000000002": {
                "object": "Contact",
                "at": "not a time",
                "values": {"Title": "CTO", "City": None},
            },
            "00Q000000000003": {"object": "Lead", "at": AT.isoformat(), "values": {}},
        }
        other = {"position": {"seq": 4, "gaps": {}}}
        await conn.execute(
            sa.insert(t.sync_state),
            [
                {"key": "salesforce:eu:push:updates", "value": old, "updated_at": AT},
                {"key": "salesforce:eu:push", "value": other, "updated_at": AT},
            ],
        )
    async with engine.begin() as conn:
        await conn.run_sync(_to("head"))
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(t.push_sent_updates))).all()
        keys = set((await conn.execute(sa.select(t.sync_state.c.key))).scalars())
    found = {row.record_id: row for row in rows}
    # A record whose attempt held no value had nothing unsure left: no row.
    assert sorted(found) == ["003000000000002", "00Q000000000001"]
    assert {row.system for row in rows} == {"salesforce:eu"}
    lead = found["00Q000000000001"]
    assert (lead.object, lead.sent, lead.at) == ("Lead", {"City": "Rome"}, AT)
    contact = found["003000000000002"]
    assert (contact.object, contact.sent) == ("Contact", {"Title": "CTO", "City": None})
    assert keys == {"salesforce:eu:push"}  # the old value went; the cursor stayed


async def test_the_migration_goes_back_down(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_to("0019", down=True))
        names = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
        assert "push_sent_updates" not in names
        await conn.run_sync(_to("head"))
        names = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    assert "push_sent_updates" in names
