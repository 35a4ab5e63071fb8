"""Bulk transfers with their own filters, previews that write nothing, and resyncs."""

from __future__ import annotations

import pytest

from peoplesync.clock import SystemClock
from peoplesync.people.model import PersonInput
from peoplesync.sync.inbound.company import CompanyRunner, account_step
from peoplesync.sync.transfer.runner import finish, transfer_condition, transfer_runner

from .conftest import World

OPEN = "Open - Not Contacted"
WORKING = "Working - Contacted"


async def seed(world: World) -> None:
    for number, status in enumerate([OPEN, OPEN, OPEN, WORKING, WORKING]):
        await world.org.create(
            "Lead",
            LastName=f"Prospect {number}",
            Company="Acme",
            Email=f"prospect{number}@acme.example",
            City="Zagreb",
            Status=status,
        )
    await world.org.create(
        "Lead", LastName="Bad", Company="Acme", Email="bad@acme.example", Phone="not a phone"
    )


async def test_preview_writes_nothing_and_shows_outcomes(world: World) -> None:
    await seed(world)
    preview = transfer_runner(world.leads, transfer_condition(world.leads), preview=True)
    report = await preview.run_once()
    assert (report.read, report.created, len(report.rejected)) == (6, 5, 1)
    assert await world.store.count_persons() == 0
    assert await world.store.last_change_seq() == 0
    created = report.samples["create"]
    assert created[0]["record"].startswith("Lead 00Q") and created[0]["city"] == "Zagreb"
    (rejected,) = report.samples["reject"]
    assert "not a phone" in rejected["error"]
    assert await world.store.get_state(preview.step.cursor_key) is None


async def test_transfer_filters_keep_the_continuous_cursor_and_resync_restores(
    world: World,
) -> None:
    await seed(world)
    working = transfer_runner(
        world.leads, transfer_condition(world.leads, lead_statuses=(WORKING,))
    )
    report = await working.run_once()
    assert (report.read, report.created) == (2, 2)
    assert await world.store.count_persons() == 2
    assert await world.store.get_state(world.leads.step.cursor_key) is None  # untouched
    assert await world.store.get_state(working.step.cursor_key)  # resumable while under way
    await finish(working)
    assert not await world.store.get_state(working.step.cursor_key)

    continuous = await world.leads.run_once()
    assert (continuous.created, continuous.skipped) == (3, 2)  # the transferred two: unchanged

    person_id = (await world.store.find_by_emails(["prospect0@acme.example"]))[
        "prospect0@acme.example"
    ]
    await world.store.upsert_persons(
        [PersonInput({"city": "Edited by hand"}, id=person_id)], origin="people"
    )
    assert (await world.leads.run_once()).updated == 0  # nothing changed in Salesforce
    resync = transfer_runner(world.leads, transfer_condition(world.leads), force=True)
    restored = await resync.run_once()
    assert restored.updated == 1
    assert (await world.store.get_persons([person_id]))[person_id].get("city") == "Zagreb"


class _Killed(Exception):
    """Stands for the process dying right after a batch was committed."""


async def test_a_resumed_transfer_counts_on_from_what_was_committed(world: World) -> None:
    for number in range(10):
        await world.org.create(
            "Lead", LastName=f"Lead {number}", Company="Acme", Email=f"l{number}@acme.example"
        )
    condition = transfer_condition(world.leads)
    first = transfer_runner(world.leads, condition)
    first.batch_size = 4
    heard: list[tuple[int, int]] = []

    def die_after_two_batches(done: int, total: int) -> None:
        heard.append((done, total))
        if done >= 8:
            raise _Killed

    with pytest.raises(_Killed):
        await first.run_once(die_after_two_batches)
    assert heard[-1] == (8, 10)
    assert await world.store.count_persons() == 8
    stored = await world.store.get_state(first.step.cursor_key)
    assert stored is not None and stored["read"] == 8  # committed with the second batch

    # A new process: its report starts from zero, its progress from the committed count.
    second = transfer_runner(world.leads, condition)
    second.batch_size = 4
    resumed: list[tuple[int, int]] = []
    report = await second.run_once(lambda done, total: resumed.append((done, total)))
    # The overlap reads the eight again (unchanged, skipped): they are not counted twice.
    assert (report.read, report.created, report.skipped) == (10, 2, 8)
    assert resumed[0][0] == 8 and resumed[-1][0] == 10
    assert resumed[-1][1] >= 10
    assert await world.store.count_persons() == 10
    await finish(second)
    assert not await world.store.get_state(second.step.cursor_key)


async def test_an_account_transfer_keeps_its_tally_too(world: World) -> None:
    for number in range(3):
        await world.org.create("Account", Name=f"Firm {number}", Website=f"firm{number}.example")
    accounts = CompanyRunner(world.leads.client, world.store, account_step(), SystemClock())
    transfer = transfer_runner(accounts, transfer_condition(accounts))
    heard: list[int] = []
    report = await transfer.run_once(lambda done, _total: heard.append(done))
    assert report.created == 3 and heard[-1] == 3
    stored = await world.store.get_state(transfer.step.cursor_key)
    assert stored is not None and stored["read"] == 3
