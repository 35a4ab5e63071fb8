"""The push's saved update attempts in the People store (SQLite and PostgreSQL): one row a
record, merged over an earlier attempt, forgotten field by field, and forgotten with the
links in the push's commit."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from peoplesync.people import tables as t
from peoplesync.people.sql_store import SqlPeopleStore

EU, US = "salesforce:eu", "salesforce:us"
AT = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
LATER = datetime(2026, 12, 5, 9, 31, tzinfo=UTC)


async def test_an_attempt_is_merged_over_the_earlier_one_of_its_record(
    store: SqlPeopleStore,
) -> None:
    await store.save_sent_updates(EU, "Lead", {"L1": {"City": "Paris", "Title": "CTO"}}, AT)
    await store.save_sent_updates(US, "Lead", {"L1": {"City": "Oslo"}}, AT)  # another org
    await store.save_sent_updates(
        EU, "Lead", {"L1": {"City": "Rome"}, "L2": {"City": "Nice"}}, LATER
    )
    found = await store.sent_updates(EU, "Lead", ["L1", "L2", "L3"])
    assert found == {"L1": {"City": "Rome", "Title": "CTO"}, "L2": {"City": "Nice"}}
    assert await store.sent_updates(US, "Lead", ["L1"]) == {"L1": {"City": "Oslo"}}
    assert await store.sent_updates(EU, "Contact", ["L1", "L2"]) == {}
    async with store.engine.connect() as conn:
        at = await conn.scalar(
            sa.select(t.push_sent_updates.c.at).where(
                t.push_sent_updates.c.system == EU, t.push_sent_updates.c.record_id == "L1"
            )
        )
    assert at == LATER


async def test_an_attempt_on_another_object_replaces_the_earlier_one(store: SqlPeopleStore) -> None:
    await store.save_sent_updates(EU, "Lead", {"X1": {"City": "Paris", "Title": "CTO"}}, AT)
    await store.save_sent_updates(EU, "Contact", {"X1": {"City": "Rome"}}, LATER)
    assert await store.sent_updates(EU, "Lead", ["X1"]) == {}
    assert await store.sent_updates(EU, "Contact", ["X1"]) == {"X1": {"City": "Rome"}}


async def test_only_the_fields_whose_outcome_is_known_are_forgotten(store: SqlPeopleStore) -> None:
    sent = {"L1": {"City": "Paris", "Title": "CTO"}, "L2": {"City": "Nice"}}
    await store.save_sent_updates(EU, "Lead", sent, AT)
    await store.save_sent_updates(US, "Lead", {"L1": {"City": "Oslo"}}, AT)
    assert await store.has_sent_updates(EU, "Lead")
    assert not await store.has_sent_updates(EU, "Contact")
    await store.forget_sent_updates(EU, {"L1": {"City"}, "L2": {"City"}, "L9": {"City"}})
    assert await store.sent_updates(EU, "Lead", ["L1", "L2"]) == {"L1": {"Title": "CTO"}}
    assert await store.sent_updates(US, "Lead", ["L1"]) == {"L1": {"City": "Oslo"}}
    await store.forget_sent_updates(EU, {"L1": {"Title"}})
    assert not await store.has_sent_updates(EU)
    assert await store.has_sent_updates(US)


async def test_the_push_commit_forgets_the_settled_fields_with_its_state(
    store: SqlPeopleStore,
) -> None:
    await store.save_sent_updates(EU, "Lead", {"L1": {"City": "Paris", "Title": "CTO"}}, AT)
    await store.apply_removals(
        origin=EU, state=(f"{EU}:push", {"position": 1}), settled=(EU, {"L1": {"Title"}})
    )
    assert await store.sent_updates(EU, "Lead", ["L1"]) == {"L1": {"City": "Paris"}}
    assert await store.get_state(f"{EU}:push") == {"position": 1}


async def test_a_big_pages_attempts_are_rows_not_one_value(store: SqlPeopleStore) -> None:
    count = 12_000  # more record ids than one IN list holds
    sent = {f"00Q{i:012d}": {"City": f"City {i}", "Title": "CTO"} for i in range(count)}
    await store.save_sent_updates(EU, "Lead", sent, AT)
    again = {f"00Q{i:012d}": {"City": f"Town {i}"} for i in range(0, count, 2)}
    await store.save_sent_updates(EU, "Lead", again, LATER)
    async with store.engine.connect() as conn:
        rows = await conn.scalar(sa.select(sa.func.count()).select_from(t.push_sent_updates))
        states = (await conn.execute(sa.select(t.sync_state.c.key))).scalars().all()
    assert rows == count
    assert not [key for key in states if key.endswith(":push:updates")]
    ids = list(sent)
    found = await store.sent_updates(EU, "Lead", ids)
    assert len(found) == count
    assert found[ids[0]] == {"City": "Town 0", "Title": "CTO"}
    assert found[ids[1]] == {"City": "City 1", "Title": "CTO"}
    await store.forget_sent_updates(EU, {rid: {"City", "Title"} for rid in ids[: count - 1]})
    assert await store.sent_updates(EU, "Lead", ids) == {ids[-1]: sent[ids[-1]]}
