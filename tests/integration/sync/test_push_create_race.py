"""Issue 13's lost update, replayed deterministically against the sandbox org: a push creates a
Lead for a person and its process dies before the new link is committed. The person then
changes in People (an edit arriving from another org), and the inbound sync reads the new
Lead before the push runs again. The Lead, unlinked, matches the person by email; its values
are the ones the push sent, older than People's, and must not go over the edit."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from peoplesync.clock import SystemClock
from peoplesync.people.store import PeopleStore
from peoplesync.sync.inbound.runner import InboundRunner
from peoplesync.sync.outbound.attempts import CreateAttempts
from peoplesync.sync.outbound.runner import OutboundRunner, default_steps

from .conftest import World
from .test_outbound import add, edit, leads_with, linked, pusher, record
from .test_two_way import patch

SYSTEM = "salesforce:default"


class Killed(BaseException):
    """The process died (nothing below catches a BaseException that is no error)."""


class DiesBeforeCommit:
    """The People store, except that the push's commit of its links never happens."""

    def __init__(self, store: PeopleStore) -> None:
        self.store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def apply_removals(self, *args: Any, **options: Any) -> Any:
        raise Killed


async def dead_push(world: World) -> None:
    """A push that creates what it has to in the org, then dies before committing."""
    store: Any = DiesBeforeCommit(world.store)
    push = OutboundRunner(world.leads.client, store, default_steps(), SystemClock())
    with pytest.raises(Killed):
        await push.run_once()


async def test_a_lead_a_dead_push_created_does_not_undo_a_later_people_edit(world: World) -> None:
    org = world.org
    person = await add(
        world, ["ada@example.com"], last_name="Lovelace", company="Engines", city="Paris"
    )
    await dead_push(world)
    (lead,) = await leads_with(org, "ada@example.com")
    assert (await record(org, "Lead", lead))["City"] == "Paris"

    await edit(world, person, city="Leeds")  # People moves on (another org's edit)
    await patch(org, lead, Title="Countess")  # and Salesforce edits the new Lead
    report = await world.leads.run_once()  # reads the Lead before the push runs again
    assert report.rejected == []
    now = (await world.store.get_persons([person]))[person]
    assert now.get("city") == "Leeds"  # not the City the dead push sent
    assert now.get("title") == "Countess"  # the Lead's own edit arrives
    assert await linked(world, person) == lead

    again = await pusher(world).run_once()  # the push writes People's City to the Lead
    assert (again.created, again.updated, again.errors) == (0, 1, [])
    assert await leads_with(org, "ada@example.com") == [lead]
    assert not await world.store.has_create_attempts(SYSTEM)  # the attempt is over
    stored = await record(org, "Lead", lead)
    assert (stored["City"], stored["Title"]) == ("Leeds", "Countess")
    await world.leads.run_once()  # the push's echo changes nothing
    now = (await world.store.get_persons([person]))[person]
    assert (now.get("city"), now.get("title")) == ("Leeds", "Countess")


async def test_a_lead_a_dead_push_created_is_linked_by_the_next_push_first(
    world: World,
) -> None:
    org = world.org
    person = await add(world, ["bea@example.com"], last_name="Bea", company="Engines", city="Paris")
    await dead_push(world)
    await edit(world, person, city="Leeds")
    again = await pusher(world).run_once()  # the push runs again before the inbound sync
    (lead,) = await leads_with(org, "bea@example.com")
    assert (again.created, again.linked, again.updated) == (0, 1, 1)
    assert await linked(world, person) == lead
    assert (await record(org, "Lead", lead))["City"] == "Leeds"
    await world.leads.run_once()
    assert (await world.store.get_persons([person]))[person].get("city") == "Leeds"
    # Nothing waits as a create attempt any more: the next create of another person is
    # not taken for this one.
    assert not await world.store.has_create_attempts(SYSTEM)


async def test_each_attempt_of_a_dead_push_is_kept_and_used_per_person(world: World) -> None:
    """Several persons in one dead push: each attempt is a row of its own (no state value
    holding the batch), and the inbound sync, reading the new Leads over several batches,
    takes each Lead's sent values as its state, so every later People edit stays."""
    org = world.org
    names = ["cy", "di", "ed", "fa", "gu"]
    persons = {
        name: await add(
            world, [f"{name}@example.com"], last_name=name.title(), company="Engines", city="Paris"
        )
        for name in names
    }
    await dead_push(world)
    saved = await world.store.create_attempts(SYSTEM, "Lead", list(persons.values()))
    assert sorted(saved) == sorted(persons.values())
    assert all(values["City"] == "Paris" for values in saved.values())
    assert await world.store.create_attempts(SYSTEM, "Contact", list(persons.values())) == {}
    assert await world.store.get_state(f"{SYSTEM}:push:creates") is None

    for name, person in persons.items():
        await edit(world, person, city=f"Leeds {name}")
    report = await world.leads.run_once()  # batches of 2 records
    assert report.rejected == []
    now = await world.store.get_persons(list(persons.values()))
    assert {name: now[p].get("city") for name, p in persons.items()} == {
        name: f"Leeds {name}" for name in names
    }
    again = await pusher(world).run_once()
    assert (again.created, again.updated, again.errors) == (0, len(names), [])
    assert not await world.store.has_create_attempts(SYSTEM)
    for name, person in persons.items():
        (lead,) = await leads_with(org, f"{name}@example.com")
        assert await linked(world, person) == lead
        assert (await record(org, "Lead", lead))["City"] == f"Leeds {name}"


async def test_a_deleted_person_takes_its_create_attempt_along(world: World) -> None:
    kept = await add(world, ["hy@example.com"], last_name="Hy", company="Engines")
    gone = await add(world, ["io@example.com"], last_name="Io", company="Engines")
    await dead_push(world)
    assert sorted(await world.store.create_attempts(SYSTEM, "Lead", [kept, gone])) == sorted(
        [kept, gone]
    )
    await world.store.delete_persons([gone], origin="ui")
    assert list(await world.store.create_attempts(SYSTEM, "Lead", [kept, gone])) == [kept]


async def test_a_push_dying_after_its_commit_leaves_no_attempt_behind(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The links are committed, then the process dies before the attempts are forgotten: the
    commit dropped them already (a linked person has no attempt left)."""
    person = await add(world, ["jo@example.com"], last_name="Jo", company="Engines")

    async def dies(self: CreateAttempts, person_ids: Any) -> None:
        raise Killed

    monkeypatch.setattr(CreateAttempts, "forget", dies)
    with pytest.raises(Killed):
        await pusher(world).run_once()
    (lead,) = await leads_with(world.org, "jo@example.com")
    assert await linked(world, person) == lead
    assert await world.store.create_attempts(SYSTEM, "Lead", [person]) == {}
    assert not await world.store.has_create_attempts(SYSTEM)


async def test_a_lead_without_email_a_dead_push_created_is_not_taken_for_a_new_person(
    world: World,
) -> None:
    org = world.org
    person = await add(world, None, last_name="Babbage", company="Engines", city="Paris")
    await dead_push(world)
    body = await org.query("SELECT Id FROM Lead WHERE LastName = 'Babbage'")
    (lead,) = [r["Id"] for r in body["records"]]
    await edit(world, person, city="Leeds")
    await world.leads.run_once()  # reads the Lead before the push runs again
    assert await world.store.count_persons() == 1  # matched by the values sent
    assert (await world.store.get_persons([person]))[person].get("city") == "Leeds"
    assert await linked(world, person) == lead
    again = await pusher(world).run_once()
    assert (again.created, again.updated, again.errors) == (0, 1, [])
    assert (await record(org, "Lead", lead))["City"] == "Leeds"
    assert not await world.store.has_create_attempts(SYSTEM)


class CommitsBeforeAttemptsRead:
    """The People store, except that ``push`` (a push waiting on ``go_on`` after its create)
    commits just before the inbound sync reads the create attempts: the inbound sync must
    have read the links after that, not before."""

    def __init__(self, store: PeopleStore, go_on: asyncio.Event) -> None:
        self.store, self.go_on = store, go_on
        self.push: asyncio.Task[Any] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def has_create_attempts(self, system: str, sobject: str | None = None) -> bool:
        if self.push is not None:
            push, self.push = self.push, None
            self.go_on.set()
            await push  # commits its link, and forgets the attempt
        return await self.store.has_create_attempts(system, sobject)


async def test_a_lead_read_before_its_pushs_commit_is_not_taken_for_a_new_one(
    world: World,
) -> None:
    org = world.org
    person = await add(world, ["cy@example.com"], last_name="Cy", company="Engines", city="Paris")
    push = pusher(world)
    created, go_on = asyncio.Event(), asyncio.Event()
    create = push.client.create_many

    async def create_then_wait(*args: Any, **options: Any) -> Any:
        await edit(world, person, city="Leeds")  # People moves on while the push creates
        results = await create(*args, **options)
        created.set()
        await go_on.wait()
        return results

    push.client.create_many = create_then_wait  # type: ignore[method-assign]
    try:
        pushing = asyncio.create_task(push.run_once())
        await created.wait()
        interleaved = CommitsBeforeAttemptsRead(world.store, go_on)
        interleaved.push = pushing
        inbound = InboundRunner(world.leads.client, interleaved, world.leads.step, SystemClock())
        await inbound.run_once()  # reads the new Lead; the push commits its link meanwhile
        assert interleaved.push is None, "the push did not commit during the inbound read"
        assert (await pushing).created == 1
    finally:
        push.client.create_many = create  # type: ignore[method-assign]
    (lead,) = await leads_with(org, "cy@example.com")
    assert (await world.store.get_persons([person]))[person].get("city") == "Leeds"
    await pusher(world).run_once()
    assert (await record(org, "Lead", lead))["City"] == "Leeds"
