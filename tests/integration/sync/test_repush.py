"""An outbound mapping change reaches the linked records on the next push against the sandbox
org: every linked person is compared with its link's last synced state, only differences are
written, page by page, and a push that still has the old mapping leaves the work for later."""

from __future__ import annotations

from peoplesync.clock import SystemClock
from peoplesync.people.model import CompanyInput
from peoplesync.sync.mapping import Direction, FieldMapping
from peoplesync.sync.outbound.account_plan import ACCOUNT_OUTBOUND
from peoplesync.sync.outbound.repush import fingerprint, marked, repush_key
from peoplesync.sync.outbound.runner import OutboundRunner, OutboundStep
from peoplesync.sync.profile.model import Profile, default_profile
from peoplesync.sync.profile.store import save_profile

from .conftest import World
from .test_outbound import add, edit, linked, record, writes

KEY = repush_key("salesforce:default")


def runner(world: World, profile: Profile, *, page_size: int = 50_000) -> OutboundRunner:
    return OutboundRunner(
        world.leads.client,
        world.store,
        profile.outbound_steps(),
        SystemClock(),
        page_size=page_size,
    )


async def test_a_newly_mapped_field_reaches_every_linked_lead_once(world: World) -> None:
    client = world.leads.client
    before = default_profile()
    persons = [
        await add(
            world,
            [f"r{i}@example.com"],
            last_name=f"R{i}",
            company="Co",
            status="Working - Contacted",
        )
        for i in range(5)
    ]
    assert (await runner(world, before).run_once()).created == 5
    leads = [await linked(world, person) for person in persons]
    assert {(await record(world.org, "Lead", lead))["Status"] for lead in leads} == {
        "Open - Not Contacted"
    }
    await edit(world, persons[0], status="Closed - Not Converted")  # a change in the log as well

    after = before.set_line("Person to Lead", FieldMapping("Status", "status", Direction.OUTBOUND))
    saved = await save_profile(world.store, client, after)
    assert saved.repush == {"Person to Lead": "mapping changed"}
    assert saved.resync == {}
    # A push still running the old mapping does not take the work (nor clear the mark).
    stale = await runner(world, before).run_once()
    assert stale.updated == 0
    assert "Person to Lead" in (await world.store.get_state(KEY) or {})["steps"]

    calls = await writes(world.org)
    pushed = await runner(world, after, page_size=2).run_once()
    assert pushed.updated == 5
    assert await writes(world.org) == calls + 3  # pages of two links: three Collections calls
    statuses = [(await record(world.org, "Lead", lead))["Status"] for lead in leads]
    assert statuses == ["Closed - Not Converted"] + ["Working - Contacted"] * 4
    assert (await world.store.get_state(KEY) or {})["steps"] == {}

    calls = await writes(world.org)
    again = await runner(world, after).run_once()
    assert (again.updated, again.created) == (0, 0)
    assert await writes(world.org) == calls


async def test_switch_changes_and_inbound_steps_mark_no_repush(world: World) -> None:
    client = world.leads.client
    profile = default_profile().set_switches("Person to Contact", delete=True)
    assert (await save_profile(world.store, client, profile)).repush == {}
    inbound = profile.set_line("Lead", FieldMapping("Rating", "status"))
    assert (await save_profile(world.store, client, inbound)).repush == {}
    assert await world.store.get_state(KEY) is None


async def test_a_newly_mapped_account_field_reaches_the_linked_accounts(world: World) -> None:
    without = tuple(line for line in ACCOUNT_OUTBOUND if line.salesforce_field != "Industry")
    company = await world.store.upsert_companies(
        [CompanyInput({"name": "Babbage Works", "industry": "Engines"})], origin="ui"
    )
    (company_id,) = company.ids
    assert company_id is not None
    old = OutboundRunner(
        world.leads.client, world.store, (OutboundStep("Account", without),), SystemClock()
    )
    assert (await old.run_once()).created == 1
    links = (await world.store.links_of("company", [company_id]))[company_id]
    (account,) = [x.external_id for x in links if x.object == "Account"]
    assert (await record(world.org, "Account", account)).get("Industry") is None

    step = OutboundStep("Account", ACCOUNT_OUTBOUND)
    await world.store.set_state(
        KEY, marked(None, step.label, fingerprint(step.lines), "mapping changed")
    )
    new = OutboundRunner(world.leads.client, world.store, (step,), SystemClock())
    assert (await new.run_once()).updated == 1
    assert (await record(world.org, "Account", account))["Industry"] == "Engines"
    calls = await writes(world.org)
    assert (await new.run_once()).updated == 0
    assert await writes(world.org) == calls
