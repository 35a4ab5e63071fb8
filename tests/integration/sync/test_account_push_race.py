"""The push-vs-inbound race for Accounts, replayed against the sandbox org: the inbound Account
step reads an Account, a Company -> Account push then writes one of its fields, and only then
does the inbound step read the Account's link. The company keeps the pushed value, the
Account's other change arrives, and nothing is written again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest

from peoplesync.clock import ManualClock
from peoplesync.people.model import CompanyInput
from peoplesync.people.store import PeopleStore
from peoplesync.sync.inbound.company import CompanyRunner, account_step
from peoplesync.sync.outbound.push_mark import MARK, synced_values
from peoplesync.sync.outbound.runner import OutboundRunner

from .conftest import World
from .test_account_push import account_of, add_company, with_accounts
from .test_outbound import API, pusher, record, writes
from .test_push_create_race import DiesBeforeCommit, Killed
from .test_push_race import PushBetweenReads


async def patch_account(world: World, account: str, **fields: Any) -> None:
    world.org.clock.advance(seconds=1)
    response = await world.org.client.patch(f"{API}/sobjects/Account/{account}", json=fields)
    assert response.status_code == 204, response.text


async def test_an_account_push_between_the_record_read_and_the_link_read_is_not_undone(
    world: World,
) -> None:
    clock = ManualClock(world.org.clock.now)  # peoplesync's clock, in step with the org's
    outbound = pusher(world, with_accounts(), clock=clock)
    interleaved = PushBetweenReads(world.store)
    inbound = CompanyRunner(
        world.leads.client, cast(PeopleStore, interleaved), account_step(), clock
    )
    company = await add_company(world, name="Hollerith", website_domain="hollerith.example")
    assert (await outbound.run_once()).created == 1
    await inbound.run_once()
    account = await account_of(world, company)

    await patch_account(world, account, BillingCountry="Germany")  # Salesforce changes a field
    await world.store.upsert_companies(  # People changes another
        [CompanyInput({"industry": "Tabulating"}, id=company)], origin="ui"
    )

    async def push() -> None:
        world.org.clock.advance(seconds=1)
        clock.set(world.org.clock.now)
        assert (await outbound.run_once()).updated == 1
        assert (await record(world.org, "Account", account))["Industry"] == "Tabulating"

    interleaved.push = push
    report = await inbound.run_once()  # read the Account (no Industry), then the push ran
    assert interleaved.push is None, "the push did not run between the reads"
    assert report.updated == 1
    now = (await world.store.get_companies([company]))[company]
    assert now.industry == "Tabulating"  # not the empty Industry read before the push
    assert now.country == "Germany"  # the Account's own change arrived
    state = (await world.store.find_links("salesforce:default", "Account", [account]))[
        account
    ].state
    assert synced_values(state)["Industry"] == "Tabulating"
    assert set(state[MARK]) == {"Industry"}

    # The push's echo: applied without a company change; then nothing is written either side.
    clock.advance(timedelta(seconds=1))
    seq, before = await world.store.last_change_seq(), await writes(world.org)
    echo = await inbound.run_once()
    assert (echo.read, echo.updated) == (1, 0)
    await outbound.run_once()
    assert (await world.store.last_change_seq(), await writes(world.org)) == (seq, before)
    # A real Salesforce edit after the push arrives as usual.
    await patch_account(world, account, Industry="Computing")
    await inbound.run_once()
    assert (await world.store.get_companies([company]))[company].industry == "Computing"
    assert (await outbound.run_once()).updated == 0


async def test_a_dead_account_pushs_write_read_inbound_does_not_undo_a_newer_people_edit(
    world: World,
) -> None:
    """A Company -> Account push writes Industry and dies before its link is committed; People
    got a newer Industry while it wrote. The inbound Account step reading the Account takes
    the value sent as synced, not as a Salesforce change, and the next push writes People's."""
    clock = ManualClock(world.org.clock.now)
    outbound = pusher(world, with_accounts(), clock=clock)
    inbound = CompanyRunner(world.leads.client, world.store, account_step(), clock)
    company = await add_company(world, name="Hollerith", website_domain="hollerith.example")
    assert (await outbound.run_once()).created == 1
    await inbound.run_once()
    account = await account_of(world, company)

    async def set_industry(industry: str) -> None:
        world.org.clock.advance(seconds=1)
        clock.set(world.org.clock.now)
        await world.store.upsert_companies(
            [CompanyInput({"industry": industry}, id=company)], origin="ui"
        )

    await set_industry("Tabulating")
    store: Any = DiesBeforeCommit(world.store)
    dying = OutboundRunner(world.leads.client, store, with_accounts(), clock)
    write = dying.client.update_many

    async def late_write(*args: Any, **options: Any) -> Any:
        await set_industry("Computing")  # People's next edit arrives while the push writes
        world.org.clock.advance(seconds=1)
        clock.set(world.org.clock.now)
        return await write(*args, **options)

    dying.client.update_many = late_write  # type: ignore[method-assign]
    try:
        with pytest.raises(Killed):
            await dying.run_once()
    finally:
        dying.client.update_many = write  # type: ignore[method-assign]
    assert (await record(world.org, "Account", account))["Industry"] == "Tabulating"

    world.org.clock.advance(seconds=1)
    clock.set(world.org.clock.now)
    await inbound.run_once()  # reads Tabulating before the push runs again
    assert (await world.store.get_companies([company]))[company].industry == "Computing"
    assert (await outbound.run_once()).updated == 1
    assert (await record(world.org, "Account", account))["Industry"] == "Computing"
    await inbound.run_once()
    assert (await world.store.get_companies([company]))[company].industry == "Computing"
    assert not await world.store.has_sent_updates("salesforce:default")
