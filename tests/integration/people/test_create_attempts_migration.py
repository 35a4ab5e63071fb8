"""Migration 0019 on SQLite and PostgreSQL: create attempts saved in the old sync-state value
(a push died with creates in flight) move to their table, one row a person, and the value
goes."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.people import tables as t
from peoplesync.people.database import alembic_config

AT = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)


def _to(revision: str, down: bool = False) -> object:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)

    return run


async def test_attempts_saved_in_the_old_state_value_move_to_their_table(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_to("0018", down=True))
        old = {
            "p1": {"object": "Lead", "at": AT.isoformat(), "values": {"LastName": "One"}},
            "p2": {"object": "Contact", "at": "not a time", "values": {"LastName": "Two"}},
        }
        other = {"position": {"seq": 4, "gaps": {}}}
        await conn.execute(
            sa.insert(t.sync_state),
            [
                {"key": "salesforce:eu:push:creates", "value": old, "updated_at": AT},
                {"key": "salesforce:eu:push", "value": other, "updated_at": AT},
            ],
        )
    async with engine.begin() as conn:
        await conn.run_sync(_to("head"))
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(t.push_create_attempts))).all()
        keys = set((await conn.execute(sa.select(t.sync_state.c.key))).scalars())
    found = {row.person_id: row for row in rows}
    assert sorted(found) == ["p1", "p2"]
    assert {row.system for row in rows} == {"salesforce:eu"}
    assert (found["p1"].object, found["p1"].sent, found["p1"].at) == (
        "Lead",
        {"LastName": "One"},
        AT,
    )
    assert (found["p2"].object, found["p2"].sent) == ("Contact", {"LastName": "Two"})
    assert keys == {"salesforce:eu:push"}  # the old value went; the cursor stayed
