"""Writes racing other writes on one person, and when each attribute last changed (SQLite and
PostgreSQL): a batch decided on an older version is refused whole, a write planned on a row
another writer changed meanwhile is planned again instead of going over it, and the change
log tells each attribute's own change time to the millisecond."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from peoplesync.clock import ManualClock
from peoplesync.errors import StalePersonsError
from peoplesync.people.model import PersonInput
from peoplesync.people.sql_store import SqlPeopleStore


async def one(store: SqlPeopleStore, **values: Any) -> str:
    result = await store.upsert_persons(
        [PersonInput(values=values, emails=["ada@example.com"])], origin="ui"
    )
    (person_id,) = result.ids
    assert person_id is not None
    return person_id


async def test_each_attribute_has_its_own_change_time(
    store: SqlPeopleStore, clock: ManualClock
) -> None:
    start = clock.now()
    person = await one(store, title="Countess", city="London")
    clock.advance(timedelta(seconds=2, milliseconds=7))
    await store.upsert_persons([PersonInput(values={"title": "Poet"}, id=person)], origin="ui")
    clock.advance(timedelta(milliseconds=20))
    await store.upsert_persons([PersonInput(values={"city": "Paris"}, id=person)], origin="ui")
    times = await store.changed_at({person: {"title", "city", "country"}, "nobody": {"title"}})
    assert times == {
        person: {
            "title": start + timedelta(seconds=2, milliseconds=7),
            "city": start + timedelta(seconds=2, milliseconds=27),
        }
    }


async def test_a_batch_decided_on_an_older_version_writes_nothing(store: SqlPeopleStore) -> None:
    person = await one(store, title="Countess")
    read = (await store.get_persons([person]))[person]
    await store.upsert_persons([PersonInput(values={"title": "Poet"}, id=person)], origin="ui")
    with pytest.raises(StalePersonsError) as raised:
        await store.apply_batch(
            [PersonInput(values={"title": "Analyst"}, id=person, version=read.version)],
            origin="salesforce:default",
            links=lambda ids: [],
            state=("cursor", {"at": "later"}),
        )
    assert raised.value.person_ids == [person]
    assert (await store.get_persons([person]))[person].get("title") == "Poet"
    assert await store.get_state("cursor") is None
    # Decided again on the version stored now, the batch is written.
    now = (await store.get_persons([person]))[person]
    await store.apply_batch(
        [PersonInput(values={"title": "Analyst"}, id=person, version=now.version)],
        origin="salesforce:default",
        links=lambda ids: [],
        state=("cursor", {"at": "later"}),
    )
    assert (await store.get_persons([person]))[person].get("title") == "Analyst"
    assert await store.get_state("cursor") == {"at": "later"}


class WriteAfterPlanning(SqlPeopleStore):
    """A store whose first plan is followed by another writer's edit of the same person
    (after the plan read the row, before the plan is written)."""

    other: SqlPeopleStore
    edit: PersonInput | None = None

    async def _plan(self, conn: Any, prepared: Any, definitions: Any) -> Any:
        plan = await super()._plan(conn, prepared, definitions)
        if self.edit is not None:
            edit, self.edit = self.edit, None
            await self.other.upsert_persons([edit], origin="ui")
        return plan


async def test_a_write_planned_on_a_row_changed_meanwhile_is_planned_again(
    store: SqlPeopleStore,
) -> None:
    person = await one(store, title="Countess", city="London")
    racing = WriteAfterPlanning(store.engine, store.clock, default_phone_region="US")
    racing.other = store
    racing.edit = PersonInput(values={"title": "Poet"}, id=person)
    await racing.upsert_persons([PersonInput(values={"city": "Paris"}, id=person)], origin="x")
    found = (await store.get_persons([person]))[person]
    assert (found.get("title"), found.get("city")) == ("Poet", "Paris")
    assert found.version == 3
