"""Two-way fields against the sandbox org: conflicts resolve per rule whichever direction runs
first, both values are reported, and neither side's write comes back as a change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from peoplesync.clock import ManualClock, SystemClock
from peoplesync.sync.conflict import Side
from peoplesync.sync.inbound.runner import InboundRunner, InboundStep
from peoplesync.sync.mapping import DEFAULT_MAPPINGS, ConflictRule, Direction, FieldMapping
from peoplesync.sync.outbound.plan import OUTBOUND_MAPPINGS
from peoplesync.sync.outbound.runner import OutboundRunner, OutboundStep
from tests.integration.sandbox.conftest import API, Org

from .conftest import World
from .test_outbound import add, edit, linked, record, writes

TWO_WAY = {"Title": ConflictRule.MOST_RECENT, "City": ConflictRule.SALESFORCE_WINS}
TWO_WAY |= {"Country": ConflictRule.PEOPLE_WINS}


def two_way(lines: tuple[FieldMapping, ...]) -> tuple[FieldMapping, ...]:
    """The lines with the fields of ``TWO_WAY`` mapped both ways under their rules."""
    return tuple(
        FieldMapping(line.salesforce_field, line.attribute, Direction.BOTH, conflict=rule)
        if (rule := TWO_WAY.get(line.salesforce_field))
        else line
        for line in lines
    )


def runners(world: World) -> tuple[InboundRunner, OutboundRunner]:
    """An inbound and an outbound Lead step sharing the two-way lines (as a profile has them)."""
    client = world.leads.client
    step = InboundStep("Lead", two_way(DEFAULT_MAPPINGS["Lead"]))
    inbound = InboundRunner(client, world.store, step, SystemClock())
    push = OutboundStep("Lead", two_way(OUTBOUND_MAPPINGS["Lead"]))
    return inbound, OutboundRunner(client, world.store, (push,), SystemClock())


async def patch(org: Org, lead_id: str, **fields: Any) -> None:
    org.clock.advance(seconds=1)
    response = await org.client.patch(f"{API}/sobjects/Lead/{lead_id}", json=fields)
    assert response.status_code == 204, response.text


async def linked_lead(world: World) -> tuple[str, str, InboundRunner, OutboundRunner]:
    inbound, outbound = runners(world)
    person = await add(
        world,
        ["ada@example.com"],
        last_name="Lovelace",
        company="Engines",
        title="Countess",
        city="London",
        country="UK",
    )
    assert (await outbound.run_once()).created == 1
    await inbound.run_once()  # what Salesforce added (Status) comes in once
    return person, await linked(world, person), inbound, outbound


async def both_sides(world: World, person_id: str, lead_id: str, attribute: str, field: str) -> Any:
    person = (await world.store.get_persons([person_id]))[person_id]
    lead = await record(world.org, "Lead", lead_id)
    assert person.get(attribute) == lead[field]
    return lead[field]


async def settled(world: World, inbound: InboundRunner, outbound: OutboundRunner) -> None:
    """Both directions run until neither has anything left; then nothing is written again."""
    for _ in range(3):
        await inbound.run_once()
        await outbound.run_once()
    seq, before = await world.store.last_change_seq(), await writes(world.org)
    await inbound.run_once()
    await outbound.run_once()
    assert (await world.store.last_change_seq(), await writes(world.org)) == (seq, before)


async def test_salesforce_wins_whichever_direction_runs_first(world: World) -> None:
    person, lead, inbound, outbound = await linked_lead(world)
    await edit(world, person, city="Paris")
    await patch(world.org, lead, City="Lyon")
    pushed = await outbound.run_once()  # sees Salesforce's change and leaves it
    assert [
        (c.salesforce_field, c.salesforce_value, c.people_value, c.winner) for c in pushed.conflicts
    ] == [("City", "Lyon", "Paris", Side.SALESFORCE)]
    assert (await record(world.org, "Lead", lead))["City"] == "Lyon"
    pulled = await inbound.run_once()
    assert [c.winner for c in pulled.conflicts] == [Side.SALESFORCE]
    await settled(world, inbound, outbound)
    assert await both_sides(world, person, lead, "city", "City") == "Lyon"

    await patch(world.org, lead, City="Nice")
    await edit(world, person, city="Rome")
    assert [c.winner for c in (await inbound.run_once()).conflicts] == [Side.SALESFORCE]
    await settled(world, inbound, outbound)
    assert await both_sides(world, person, lead, "city", "City") == "Nice"


async def test_people_wins_whichever_direction_runs_first(world: World) -> None:
    person, lead, inbound, outbound = await linked_lead(world)
    await edit(world, person, country="France")
    await patch(world.org, lead, Country="Germany")
    pulled = await inbound.run_once()  # leaves People's value; the push then writes it
    assert [(c.salesforce_value, c.people_value, c.winner) for c in pulled.conflicts] == [
        ("Germany", "France", Side.PEOPLE)
    ]
    assert (await world.store.get_persons([person]))[person].get("country") == "France"
    await settled(world, inbound, outbound)
    assert await both_sides(world, person, lead, "country", "Country") == "France"

    await patch(world.org, lead, Country="Spain")
    await edit(world, person, country="Italy")
    # The push needs no read of the record: People wins anyway.
    assert (await outbound.run_once()).updated == 1
    await settled(world, inbound, outbound)
    assert await both_sides(world, person, lead, "country", "Country") == "Italy"


async def test_most_recent_wins(world: World, clock: ManualClock) -> None:
    person, lead, inbound, outbound = await linked_lead(world)
    # Salesforce changes last: its value wins on both sides.
    clock.set(world.org.clock.now)
    await edit(world, person, title="Mathematician")
    await patch(world.org, lead, Title="Analyst")  # a second later
    assert [c.winner for c in (await outbound.run_once()).conflicts] == [Side.SALESFORCE]
    await settled(world, inbound, outbound)
    assert await both_sides(world, person, lead, "title", "Title") == "Analyst"
    # People changes last: its value wins.
    await patch(world.org, lead, Title="Programmer")
    clock.set(world.org.clock.now + timedelta(seconds=1))
    await edit(world, person, title="Poet")
    assert [c.winner for c in (await inbound.run_once()).conflicts] == [Side.PEOPLE]
    await settled(world, inbound, outbound)
    assert await both_sides(world, person, lead, "title", "Title") == "Poet"


async def test_one_way_lines_and_unrelated_fields_are_no_conflict(world: World) -> None:
    person, lead, inbound, outbound = await linked_lead(world)
    await edit(world, person, country="France")
    await patch(world.org, lead, City="Lyon", Street="1 rue de la Paix")
    assert (await inbound.run_once()).conflicts == []
    assert (await outbound.run_once()).conflicts == []
    await settled(world, inbound, outbound)
    assert await both_sides(world, person, lead, "country", "Country") == "France"
    assert await both_sides(world, person, lead, "city", "City") == "Lyon"


async def test_a_push_keeps_what_the_inbound_sync_recorded_meanwhile(world: World) -> None:
    """The inbound sync records Salesforce's new City while a push is writing the Title; the
    push's new link state keeps that City, so a later People edit of City is no conflict."""
    person, lead, inbound, outbound = await linked_lead(world)
    await patch(world.org, lead, City="Lyon")
    await edit(world, person, title="Engineer")
    write = outbound.client.update_many

    async def write_then_pull(*args: Any, **options: Any) -> Any:
        results = await write(*args, **options)
        await inbound.run_once()  # Lyon reaches People and the link while the push is on
        return results

    outbound.client.update_many = write_then_pull  # type: ignore[method-assign]
    try:
        assert (await outbound.run_once()).updated == 1
    finally:
        outbound.client.update_many = write  # type: ignore[method-assign]
    await edit(world, person, city="Paris")  # after Lyon was synced: not a conflict
    assert (await outbound.run_once()).conflicts == []
    await settled(world, inbound, outbound)
    assert await both_sides(world, person, lead, "city", "City") == "Paris"


class PushMidway:
    """The People store, with a push run once while an inbound batch is being applied (after
    it read the links, before it saves them)."""

    def __init__(self, store: Any, push: OutboundRunner) -> None:
        self.store = store
        self.push: OutboundRunner | None = push

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def get_persons(self, ids: Any) -> Any:
        if self.push is not None:
            push, self.push = self.push, None
            assert (await push.run_once()).updated == 1
        return await self.store.get_persons(ids)


async def test_an_inbound_batch_keeps_what_a_push_recorded_meanwhile(world: World) -> None:
    """A push writes People's City while an inbound batch (which read the record before) is
    applied; the batch keeps the pushed City as synced, so a later People edit of City is no
    conflict."""
    person, lead, inbound, outbound = await linked_lead(world)
    await edit(world, person, city="Paris")
    await patch(world.org, lead, Title="Analyst")  # gives the inbound sync a record to read
    midway = InboundRunner(
        inbound.client, PushMidway(world.store, outbound), inbound.step, SystemClock()
    )
    await midway.run_once()
    await edit(world, person, city="Rome")  # after Paris was synced: not a conflict
    assert (await outbound.run_once()).conflicts == []
    await settled(world, inbound, outbound)
    assert await both_sides(world, person, lead, "city", "City") == "Rome"
