"""The race between a push and an inbound read, replayed deterministically against the sandbox
org: the inbound sync reads a record, a push then writes one of its fields, and only then does
the inbound sync read the record's link. People keeps the pushed value (the record read is
older than the write), the record's other changes arrive, and nothing is written again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, cast

from peoplesync.clock import ManualClock
from peoplesync.people.store import PeopleStore
from peoplesync.sync.inbound.runner import InboundRunner, InboundStep
from peoplesync.sync.mapping import DEFAULT_MAPPINGS
from peoplesync.sync.outbound.push_mark import MARK, synced_values

from .conftest import World
from .test_outbound import add, edit, linked, pusher, record, writes
from .test_two_way import patch


class PushBetweenReads:
    """The People store, except that the next link read first lets ``push`` run: exactly
    between the inbound sync's read of the records and its read of their links."""

    def __init__(self, store: PeopleStore) -> None:
        self.store = store
        self.push: Callable[[], Awaitable[None]] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def find_links(self, *args: Any, **options: Any) -> Any:
        push, self.push = self.push, None
        if push is not None:
            await push()
        return await self.store.find_links(*args, **options)


async def test_a_push_between_the_record_read_and_the_link_read_is_not_undone(
    world: World,
) -> None:
    clock = ManualClock(world.org.clock.now)  # peoplesync's clock, in step with the org's
    outbound = pusher(world, clock=clock)
    interleaved = PushBetweenReads(world.store)
    inbound = InboundRunner(
        world.leads.client,
        cast(PeopleStore, interleaved),
        InboundStep("Lead", DEFAULT_MAPPINGS["Lead"]),
        clock,
    )
    person = await add(world, ["ada@example.com"], last_name="Lovelace", company="Engines")
    await edit(world, person, title="Countess")
    assert (await outbound.run_once()).created == 1
    await inbound.run_once()
    lead = await linked(world, person)

    await patch(world.org, lead, City="Leeds")  # Salesforce changes another field
    await edit(world, person, title="Engineer")  # People changes the title

    async def push() -> None:
        world.org.clock.advance(seconds=1)
        clock.set(world.org.clock.now)
        assert (await outbound.run_once()).updated == 1
        assert (await record(world.org, "Lead", lead))["Title"] == "Engineer"

    interleaved.push = push
    report = await inbound.run_once()  # read the Lead (Title Countess), then the push ran
    assert interleaved.push is None, "the push did not run between the reads"
    assert report.updated == 1
    now = (await world.store.get_persons([person]))[person]
    assert now.get("title") == "Engineer"  # not the Title read before the push
    assert now.get("city") == "Leeds"  # the record's own change arrived
    links = await world.store.find_links("salesforce:default", "Lead", [lead])
    state = links[lead].state
    assert synced_values(state)["Title"] == "Engineer"
    assert set(state[MARK]) == {"Title"}  # kept until a newer read of the record

    # The push's echo: equal to the state, skipped; then nothing is written on either side.
    clock.advance(timedelta(seconds=1))
    seq, before = await world.store.last_change_seq(), await writes(world.org)
    echo = await inbound.run_once()
    assert (echo.read, echo.updated) == (1, 0)
    await outbound.run_once()
    assert (await world.store.last_change_seq(), await writes(world.org)) == (seq, before)
    # A real Salesforce edit of the title after the push arrives as usual.
    await patch(world.org, lead, Title="Duchess")
    await inbound.run_once()
    assert (await world.store.get_persons([person]))[person].get("title") == "Duchess"
    assert (await outbound.run_once()).updated == 0
