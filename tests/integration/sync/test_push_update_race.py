"""Issue 13's lost update, the update side, replayed deterministically against the sandbox org
with the default profile's two-way lines (most recent change wins). A Lead's City only ever
changes by pushes here, as org A's do in the queue workers' e2e test: People's City comes from
another org, so any City the inbound sync takes from the Lead is an older one coming back.

- A push that updates the Lead dies after Salesforce took the write and before its link is
  committed, or is only slow to commit it, or its commit fails; meanwhile People got a newer
  City. The Lead's City (the one sent) is newer than People's edit by its modstamp, but it is
  no Salesforce change.
- Two pushes land between the inbound sync's read of the Lead and its read of the link: the
  record read holds the City from before the first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, cast

import pytest

from peoplesync.clock import ManualClock
from peoplesync.people.store import PeopleStore
from peoplesync.sync.inbound.runner import InboundRunner, InboundStep
from peoplesync.sync.mapping import DEFAULT_MAPPINGS
from peoplesync.sync.outbound.attempts import CreateAttempts
from peoplesync.sync.outbound.plan import OUTBOUND_MAPPINGS
from peoplesync.sync.outbound.runner import OutboundRunner, OutboundStep
from peoplesync.sync.profile.model import two_way_lines

from .conftest import World
from .test_outbound import add, edit, linked, record
from .test_push_create_race import DiesBeforeCommit, Killed
from .test_push_race import PushBetweenReads
from .test_two_way import both_sides, patch, settled

LEAD_IN, LEAD_OUT = two_way_lines(DEFAULT_MAPPINGS["Lead"], OUTBOUND_MAPPINGS["Lead"])


class Rig:
    """The org, People and the runners of one integration's Lead steps, on one clock that
    moves with the org's (People's edit times and Salesforce's modstamps compare)."""

    def __init__(self, world: World, clock: ManualClock) -> None:
        self.world, self.clock = world, clock
        self.client = world.leads.client
        clock.set(world.org.clock.now)

    def tick(self) -> None:
        """A second passes on both sides."""
        self.world.org.clock.advance(seconds=1)
        self.clock.set(self.world.org.clock.now)

    def inbound(self, store: Any = None) -> InboundRunner:
        step = InboundStep("Lead", LEAD_IN)
        return InboundRunner(self.client, store or self.world.store, step, self.clock)

    def push(self, store: Any = None) -> OutboundRunner:
        steps = (OutboundStep("Lead", LEAD_OUT, create=True),)
        return OutboundRunner(self.client, store or self.world.store, steps, self.clock)

    async def city(self, person: str) -> Any:
        return (await self.world.store.get_persons([person]))[person].get("city")


async def linked_lead(rig: Rig) -> tuple[str, str]:
    """A person in People with its Lead, City London on both sides and in sync."""
    world = rig.world
    person = await add(world, ["ada@example.com"], last_name="Lovelace", company="Engines")
    await edit(world, person, city="London")
    assert (await rig.push().run_once()).created == 1
    rig.tick()
    await rig.inbound().run_once()
    lead = await linked(world, person)
    assert (await record(world.org, "Lead", lead))["City"] == "London"
    return person, lead


async def dead_push_of_paris(rig: Rig, person: str, lead: str) -> None:
    """People's City becomes Paris; a push reads it, and while it writes, People gets Rome;
    Salesforce takes Paris (its modstamp after Rome's edit) and the push dies before its link
    (and push mark) is committed."""
    rig.tick()
    await edit(rig.world, person, city="Paris")
    dying = rig.push(DiesBeforeCommit(rig.world.store))
    write = dying.client.update_many

    async def late_write(*args: Any, **options: Any) -> Any:
        rig.tick()
        await edit(rig.world, person, city="Rome")  # the other org's next edit arrives
        rig.tick()
        return await write(*args, **options)

    dying.client.update_many = late_write  # type: ignore[method-assign]
    try:
        with pytest.raises(Killed):
            await dying.run_once()
    finally:
        dying.client.update_many = write  # type: ignore[method-assign]
    assert (await record(rig.world.org, "Lead", lead))["City"] == "Paris"
    rig.tick()


async def test_a_dead_pushs_write_read_inbound_does_not_undo_a_newer_people_edit(
    world: World, clock: ManualClock
) -> None:
    rig = Rig(world, clock)
    person, lead = await linked_lead(rig)
    await dead_push_of_paris(rig, person, lead)
    inbound = rig.inbound()
    report = await inbound.run_once()  # reads Paris before the push runs again
    assert report.conflicts == []  # Paris is the push's own write, not Salesforce's change
    assert await rig.city(person) == "Rome"
    await settled(world, inbound, rig.push())
    assert await both_sides(world, person, lead, "city", "City") == "Rome"


async def test_the_push_after_a_dead_one_writes_the_newer_people_edit(
    world: World, clock: ManualClock
) -> None:
    rig = Rig(world, clock)
    person, lead = await linked_lead(rig)
    await dead_push_of_paris(rig, person, lead)
    push = rig.push()
    again = await push.run_once()  # runs again before the inbound sync reads Paris
    assert (again.conflicts, again.updated) == ([], 1)
    assert (await record(world.org, "Lead", lead))["City"] == "Rome"
    inbound = rig.inbound()
    await inbound.run_once()
    assert await rig.city(person) == "Rome"
    await settled(world, inbound, push)
    assert await both_sides(world, person, lead, "city", "City") == "Rome"


async def test_two_pushes_between_the_record_read_and_the_link_read_are_not_undone(
    world: World, clock: ManualClock
) -> None:
    rig = Rig(world, clock)
    person, lead = await linked_lead(rig)
    rig.tick()
    await patch(world.org, lead, Title="Analyst")  # a record for the inbound sync to read
    rig.clock.set(world.org.clock.now)
    push = rig.push()

    async def two_pushes() -> None:
        for city in ("Paris", "Rome"):
            rig.tick()
            await edit(world, person, city=city)
            assert (await push.run_once()).updated == 1
        assert (await record(world.org, "Lead", lead))["City"] == "Rome"

    interleaved = PushBetweenReads(world.store)
    interleaved.push = cast(Callable[[], Awaitable[None]], two_pushes)
    inbound = rig.inbound(cast(PeopleStore, interleaved))
    report = await inbound.run_once()  # read London, then both pushes ran
    assert interleaved.push is None, "the pushes did not run between the reads"
    assert report.conflicts == []
    assert await rig.city(person) == "Rome"  # not London, read before both writes
    assert (await world.store.get_persons([person]))[person].get("title") == "Analyst"
    await settled(world, rig.inbound(), push)
    assert await both_sides(world, person, lead, "city", "City") == "Rome"


class CommitsAfterSentRead:
    """The People store, except that ``push`` (a push waiting on ``go_on`` after its write)
    commits just before the inbound sync reads what pushes sent without committing: the
    inbound sync must have read the links after that, not before."""

    def __init__(self, store: PeopleStore, go_on: asyncio.Event) -> None:
        self.store, self.go_on = store, go_on
        self.push: asyncio.Task[Any] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def has_sent_updates(self, system: str, sobject: str | None = None) -> bool:
        if self.push is not None:
            push, self.push = self.push, None
            self.go_on.set()
            await push  # commits its link and mark, and forgets what it sent
        return await self.store.has_sent_updates(system, sobject)


async def test_a_pushs_write_read_before_the_push_commits_is_no_salesforce_change(
    world: World, clock: ManualClock
) -> None:
    rig = Rig(world, clock)
    person, lead = await linked_lead(rig)
    rig.tick()
    await edit(world, person, city="Paris")
    push = rig.push()
    written, go_on = asyncio.Event(), asyncio.Event()
    write = push.client.update_many

    async def write_then_wait(*args: Any, **options: Any) -> Any:
        rig.tick()
        await edit(world, person, city="Rome")  # the other org's next edit arrives
        rig.tick()
        results = await write(*args, **options)  # Paris, after Rome by its modstamp
        written.set()
        await go_on.wait()
        return results

    push.client.update_many = write_then_wait  # type: ignore[method-assign]
    try:
        pushing = asyncio.create_task(push.run_once())
        await written.wait()
        rig.tick()
        interleaved = CommitsAfterSentRead(world.store, go_on)
        interleaved.push = pushing
        report = await rig.inbound(interleaved).run_once()  # reads Paris; the push commits
        assert interleaved.push is None, "the push did not commit during the inbound read"
        assert (await pushing).updated == 1
    finally:
        push.client.update_many = write  # type: ignore[method-assign]
    assert report.conflicts == []
    assert await rig.city(person) == "Rome"
    await settled(world, rig.inbound(), push)
    assert await both_sides(world, person, lead, "city", "City") == "Rome"
    assert not await world.store.has_sent_updates("salesforce:default")


async def test_a_push_dying_after_its_commit_leaves_no_update_attempt_behind(
    world: World, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The link and mark are committed, then the process dies before anything after the
    commit runs: the commit forgot what the update sent (a value left saved would make the
    inbound sync take the Lead's City as synced when it is a later Salesforce edit)."""
    rig = Rig(world, clock)
    person, lead = await linked_lead(rig)
    rig.tick()
    await edit(world, person, city="Paris")

    async def dies(self: CreateAttempts, person_ids: Any) -> None:
        raise Killed

    monkeypatch.setattr(CreateAttempts, "forget", dies)  # the first thing after the commit
    with pytest.raises(Killed):
        await rig.push().run_once()
    assert (await record(world.org, "Lead", lead))["City"] == "Paris"
    assert (await world.store.find_links("salesforce:default", "Lead", [lead]))[lead].state[
        "City"
    ] == "Paris"
    assert await world.store.sent_updates("salesforce:default", "Lead", [lead]) == {}
    assert not await world.store.has_sent_updates("salesforce:default")
