"""Inbound through Bulk API 2.0 above the threshold: same People as REST, few calls, resumable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from peoplesync.clock import ManualClock
from peoplesync.people.database import create_engine, migrate
from peoplesync.people.model import CompanyInput
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.sync.inbound.cursor import BulkProgress, Cursor, dump_state, load_state
from peoplesync.sync.inbound.runner import InboundRunner, InboundStep
from peoplesync.sync.mapping import DEFAULT_MAPPINGS
from tests.integration.sandbox.conftest import API, Org

from .conftest import World

CONTACTS = 23
PAGE = 7  # results pages of 7 records, batches of 3: pages and batches both cross borders


def contacts_step() -> InboundStep:
    return InboundStep("Contact", DEFAULT_MAPPINGS["Contact"])


def runner(
    world: World, store: SqlPeopleStore | None = None, *, threshold: int | None, **options: Any
) -> InboundRunner:
    client = world.contacts.client
    clock = ManualClock(world.org.clock.now)  # the cursor's age is measured on the org's time
    return InboundRunner(
        client,
        store or world.store,
        contacts_step(),
        clock,
        bulk_threshold=threshold,
        bulk_batch_size=3,
        bulk_page_size=PAGE,
        **options,
    )


async def seed(org: Org) -> list[str]:
    account = await org.create("Account", Name="Analytical Society")
    ids = []
    for i in range(CONTACTS):
        ids.append(
            await org.create(
                "Contact",
                FirstName=f"First{i}",
                LastName=f'Last {i}, "quoted"' if i % 5 == 0 else f"Last{i}",
                Email=f"person{i}@example.com",
                Phone="+1 415 555 0100" if i % 2 else None,
                AccountId=account if i % 3 == 0 else None,
                Birthdate="1990-01-02" if i % 4 == 0 else None,
                MailingStreet="1 Main St\nSuite 2" if i % 6 == 0 else None,
            )
        )
    return ids


async def people(store: SqlPeopleStore, ids: list[str]) -> dict[str, Any]:
    """For every contact: its person's values, emails and phones."""
    links = await store.find_links("salesforce:default", "Contact", ids)
    persons = await store.get_persons([link.entity_id for link in links.values()])
    return {
        record_id: (
            persons[link.entity_id].standard,
            persons[link.entity_id].attributes,
            persons[link.entity_id].emails,
            persons[link.entity_id].phones,
        )
        for record_id, link in links.items()
    }


@pytest.fixture
async def reference(tmp_path: Path) -> AsyncIterator[SqlPeopleStore]:
    """A second People store (SQLite) for the REST path's result."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'rest.db'}")
    await migrate(engine)
    yield SqlPeopleStore(engine, ManualClock(), default_phone_region="US")
    await engine.dispose()


def calls(client: SalesforceClient) -> int:
    return client.usage.calls


async def test_bulk_gives_the_people_rest_gives_with_few_calls(
    world: World, reference: SqlPeopleStore
) -> None:
    ids = await seed(world.org)
    rest_store = reference
    client = world.contacts.client
    await client.describe("Contact")  # describe is cached per client; keep it out of the counts

    before = calls(client)
    rest = await runner(world, rest_store, threshold=None).run_once()
    rest_calls = calls(client) - before

    seen: list[tuple[int, int]] = []
    before = calls(client)
    bulk = await runner(world, threshold=CONTACTS).run_once(lambda d, t: seen.append((d, t)))
    bulk_calls = calls(client) - before

    assert rest_calls == 1  # one REST page
    # COUNT, create the job, one status poll or two, one call per results page
    pages = -(-CONTACTS // PAGE)
    assert 3 + pages <= bulk_calls <= 4 + pages
    assert (bulk.read, bulk.created, bulk.rejected) == (rest.read, rest.created, [])
    assert bulk.created == CONTACTS
    assert await people(world.store, ids) == await people(rest_store, ids)
    assert seen[0] == (0, CONTACTS)
    assert seen[-1] == (CONTACTS, CONTACTS)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)

    # The bulk values equal REST's: a REST poll afterwards sees nothing changed.
    cursor, progress = load_state(await world.store.get_state(contacts_step().cursor_key))
    assert progress is None
    assert cursor is not None
    changes = await world.store.last_change_seq()
    again = await runner(world, threshold=None).run_once()
    assert again.read >= CONTACTS  # the cursor is inside the overlap of every record
    assert (again.created, again.updated) == (0, 0)
    assert await world.store.last_change_seq() == changes


async def test_the_threshold_chooses_the_path(world: World) -> None:
    await seed(world.org)
    client = world.contacts.client
    await client.describe("Contact")
    before = calls(client)
    below = await runner(world, threshold=CONTACTS + 1).run_once()
    assert calls(client) - before == 2  # COUNT, then one REST page
    assert below.created == CONTACTS
    jobs = (await world.org.client.get(f"{API}/jobs/query")).json()["records"]
    assert jobs == []

    # A recent cursor: no COUNT; the first REST page's totalSize switches to bulk.
    for i in range(CONTACTS):
        await world.org.create("Contact", LastName=f"Later{i}", Email=f"later{i}@example.com")
    before = calls(client)
    switched = await runner(world, threshold=CONTACTS).run_once()
    assert switched.created == CONTACTS
    assert switched.read >= 2 * CONTACTS  # the overlap window brings back the first load
    jobs = (await world.org.client.get(f"{API}/jobs/query")).json()["records"]
    assert len(jobs) == 1
    assert jobs[0]["operation"] == "queryAll"  # deletes are followed after the first load
    assert 4 <= calls(client) - before <= 16  # REST page, job, polls, 7 pages of 7

    # A stale cursor (the sync was stopped): counted first; below the threshold, so REST.
    world.org.clock.advance(hours=2)
    before = calls(client)
    quiet = await runner(world, threshold=2 * CONTACTS + 1).run_once()
    assert (quiet.read, quiet.created, quiet.updated) == (2 * CONTACTS, 0, 0)
    assert calls(client) - before == 2  # COUNT, one REST page
    assert len((await world.org.client.get(f"{API}/jobs/query")).json()["records"]) == 1


class Crash(Exception):
    pass


async def test_a_crash_mid_transfer_resumes_the_job_without_loss_or_duplicates(
    world: World, reference: SqlPeopleStore
) -> None:
    ids = await seed(world.org)
    await runner(world, reference, threshold=None).run_once()

    def crash_after_ten(done: int, total: int) -> None:
        if done >= 10:
            raise Crash

    with pytest.raises(Crash):
        await runner(world, threshold=1).run_once(crash_after_ten)
    cursor, progress = load_state(await world.store.get_state(contacts_step().cursor_key))
    assert cursor is None  # the cursor waits for the end of the job
    assert progress is not None
    assert progress.applied == 10  # pages of 7 in batches of 3: 3, 6, 7, then 10
    assert await world.store.count_persons() == 10

    resumed = await runner(world, threshold=1).run_once()
    assert resumed.read == CONTACTS - 10  # nothing read twice
    assert resumed.created == CONTACTS - 10
    jobs = (await world.org.client.get(f"{API}/jobs/query")).json()["records"]
    assert len(jobs) == 1  # the same job, not a new one
    assert await world.store.count_persons() == CONTACTS
    assert await people(world.store, ids) == await people(reference, ids)
    cursor, progress = load_state(await world.store.get_state(contacts_step().cursor_key))
    assert progress is None
    assert cursor is not None


async def test_a_job_that_is_gone_starts_over_from_the_cursor(world: World) -> None:
    await seed(world.org)
    key = contacts_step().cursor_key
    old = Cursor(datetime(2020, 1, 1).astimezone(), "")
    gone = BulkProgress("750000000000000AAA", "bG9zdA", 5, 5, CONTACTS, None)
    await world.store.set_state(key, dump_state(old, gone))
    report = await runner(world, threshold=1).run_once()
    assert report.created == CONTACTS
    cursor, progress = load_state(await world.store.get_state(key))
    assert progress is None
    assert cursor is not None
    assert cursor > old


class OrgTime:
    """The runner's clock, following the org's (which the test moves)."""

    def __init__(self, org: Org) -> None:
        self.org = org

    def now(self) -> datetime:
        return self.org.clock.now


async def test_a_quiet_object_polled_regularly_is_not_counted_on_every_poll(
    world: World,
) -> None:
    await seed(world.org)
    client = world.contacts.client
    await client.describe("Contact")
    polls = InboundRunner(
        client, world.store, contacts_step(), OrgTime(world.org), bulk_threshold=CONTACTS + 1
    )
    await polls.run_once()  # the first load is counted
    # No changes for hours: the cursor is old, but this runner polled a moment ago.
    for _ in range(3):
        world.org.clock.advance(minutes=50)
        before = calls(client)
        assert (await polls.run_once()).created == 0
        assert calls(client) - before == 1  # one REST page, no COUNT
    # Not polled for longer than count_after (a stopped sync): counted again.
    world.org.clock.advance(hours=2)
    before = calls(client)
    await polls.run_once()
    assert calls(client) - before == 2  # COUNT, one REST page


async def test_each_bulk_batch_sees_the_batches_before_it(
    world: World, reference: SqlPeopleStore
) -> None:
    """The next batch is mapped and validated while one is written; duplicates across
    batches and companies still come out as on the REST path, which applies one by one."""
    for store in (world.store, reference):
        await store.upsert_companies(
            [CompanyInput({"name": "Analytical", "website_domain": "analytical.org"})],
            origin="test",
        )
    ids = []
    for i in range(8):
        # Contact 4 (second batch) has the email of contact 1 (first batch).
        email = "Person1@Analytical.org" if i == 4 else f"person{i}@analytical.org"
        ids.append(await world.org.create("Contact", LastName=f"Last{i}", Email=email))

    rest = await runner(world, reference, threshold=None).run_once()
    bulk = await runner(world, threshold=3).run_once()

    assert (bulk.read, bulk.created, len(bulk.duplicates)) == (8, 7, 1)
    assert (rest.read, rest.created, len(rest.duplicates)) == (8, 7, 1)
    assert ids[4] in bulk.duplicates[0]
    assert await people(world.store, ids) == await people(reference, ids)
    links = await world.store.find_links("salesforce:default", "Contact", ids)
    persons = await world.store.get_persons([link.entity_id for link in links.values()])
    assert all(person.company_id is not None for person in persons.values())
