"""Issue 12 item 10: a Salesforce edit and a People edit of one two-way field a few
milliseconds apart. The later edit wins on both sides (``most_recent``) and the conflict is
reported, whichever direction runs first and when the People edit lands while an inbound batch
is being applied; the times compared are the field's own (not the person's last update) with
the milliseconds Salesforce gives."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from peoplesync.clock import ManualClock, SystemClock
from peoplesync.people.model import PersonInput
from peoplesync.sync.conflict import Side
from peoplesync.sync.inbound.cursor import parse_modstamp
from peoplesync.sync.inbound.runner import InboundRunner
from peoplesync.sync.outbound.runner import OutboundRunner
from tests.integration.sandbox.conftest import API

from .conftest import World
from .test_outbound import edit, record
from .test_two_way import both_sides, linked_lead, settled


async def patch_at(world: World, lead_id: str, **fields: Any) -> None:
    """Edit the Lead in Salesforce at the org clock's current time."""
    response = await world.org.client.patch(f"{API}/sobjects/Lead/{lead_id}", json=fields)
    assert response.status_code == 204, response.text


async def run(first: str, inbound: InboundRunner, outbound: OutboundRunner) -> list[Any]:
    """Run both directions once in the given order; the conflicts each reported."""
    if first == "inbound":
        return [*(await inbound.run_once()).conflicts, *(await outbound.run_once()).conflicts]
    return [*(await outbound.run_once()).conflicts, *(await inbound.run_once()).conflicts]


@pytest.mark.parametrize("first", ["inbound", "push"])
async def test_a_people_edit_20_ms_after_salesforce_wins(
    world: World, clock: ManualClock, first: str
) -> None:
    person, lead, inbound, outbound = await linked_lead(world)
    world.org.clock.advance(seconds=5)
    at = world.org.clock.now + timedelta(milliseconds=370)
    world.org.clock.now = at
    await patch_at(world, lead, Title="Analyst")
    clock.set(at + timedelta(milliseconds=20))
    await edit(world, person, title="Poet")
    conflicts = await run(first, inbound, outbound)
    assert [(c.salesforce_field, c.winner) for c in conflicts][:1] == [("Title", Side.PEOPLE)]
    await settled(world, inbound, outbound)
    assert await both_sides(world, person, lead, "title", "Title") == "Poet"


@pytest.mark.parametrize("first", ["inbound", "push"])
async def test_a_salesforce_edit_20_ms_after_people_wins(
    world: World, clock: ManualClock, first: str
) -> None:
    person, lead, inbound, outbound = await linked_lead(world)
    world.org.clock.advance(seconds=5)
    at = world.org.clock.now + timedelta(milliseconds=370)
    clock.set(at)
    await edit(world, person, title="Poet")
    world.org.clock.now = at + timedelta(milliseconds=20)
    await patch_at(world, lead, Title="Analyst")
    conflicts = await run(first, inbound, outbound)
    assert [(c.salesforce_field, c.winner) for c in conflicts][:1] == [("Title", Side.SALESFORCE)]
    await settled(world, inbound, outbound)
    assert await both_sides(world, person, lead, "title", "Title") == "Analyst"


@pytest.mark.parametrize("first", ["inbound", "push"])
async def test_most_recent_compares_the_fields_change_not_the_persons(
    world: World, clock: ManualClock, first: str
) -> None:
    """People's Title changed before Salesforce's; a later People edit of another attribute
    does not make People's Title the more recent one."""
    person, lead, inbound, outbound = await linked_lead(world)
    world.org.clock.advance(seconds=5)
    at = world.org.clock.now
    clock.set(at - timedelta(seconds=2))
    await edit(world, person, title="Poet")
    await patch_at(world, lead, Title="Analyst")
    clock.set(at + timedelta(milliseconds=20))
    await edit(world, person, first_name="Augusta")
    conflicts = await run(first, inbound, outbound)
    assert [(c.salesforce_field, c.winner) for c in conflicts][:1] == [("Title", Side.SALESFORCE)]
    await settled(world, inbound, outbound)
    assert await both_sides(world, person, lead, "title", "Title") == "Analyst"
    assert await both_sides(world, person, lead, "first_name", "FirstName") == "Augusta"


class EditMidway:
    """The People store, with a People edit made once while an inbound batch is applied
    (after it read the persons, before it writes them)."""

    def __init__(self, store: Any, person_id: str, clock: ManualClock, **values: Any) -> None:
        self.store = store
        self.person_id = person_id
        self.clock = clock
        self.values: dict[str, Any] | None = values

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def get_persons(self, ids: Any) -> Any:
        found = await self.store.get_persons(ids)
        if self.values is not None:
            values, self.values = self.values, None
            self.clock.advance(timedelta(milliseconds=20))
            await self.store.upsert_persons(
                [PersonInput(values=values, id=self.person_id)], origin="ui"
            )
        return found


async def test_a_people_edit_during_an_inbound_batch_is_not_lost(
    world: World, clock: ManualClock
) -> None:
    """The inbound batch read the person before the People edit and writes after it: it must
    not put Salesforce's earlier value over the edit (the lost update of the issue)."""
    person, lead, inbound, outbound = await linked_lead(world)
    world.org.clock.advance(seconds=5)
    await patch_at(world, lead, Title="Analyst")
    clock.set(world.org.clock.now)
    midway = InboundRunner(
        inbound.client,
        EditMidway(world.store, person, clock, title="Poet"),
        inbound.step,
        SystemClock(),
    )
    pulled = await midway.run_once()
    assert (await world.store.get_persons([person]))[person].get("title") == "Poet"
    assert [(c.salesforce_field, c.winner) for c in pulled.conflicts] == [("Title", Side.PEOPLE)]
    await settled(world, inbound, outbound)
    assert await both_sides(world, person, lead, "title", "Title") == "Poet"


async def test_the_sandbox_and_the_parser_keep_milliseconds(world: World) -> None:
    _person, lead, _, _ = await linked_lead(world)
    world.org.clock.now = world.org.clock.now.replace(microsecond=0) + timedelta(milliseconds=123)
    await patch_at(world, lead, Title="Analyst")
    body = await record(world.org, "Lead", lead)
    for name in ("LastModifiedDate", "SystemModstamp"):
        assert parse_modstamp(body[name]) == world.org.clock.now, body[name]
