"""Saving a profile: checked against People and the org, nothing saved on a problem, resyncs."""

from __future__ import annotations

import pytest

from peoplesync.clock import SystemClock
from peoplesync.people.attribute import AttributeDefinition, AttributeType
from peoplesync.sync.inbound.company import CompanyRunner
from peoplesync.sync.inbound.runner import InboundRunner
from peoplesync.sync.mapping import FieldMapping
from peoplesync.sync.profile.model import ProfileError, StepFilter, default_profile
from peoplesync.sync.profile.store import check_profile, load_profile, save_profile
from peoplesync.sync_session import profile_runners

from .conftest import World


async def test_default_profile_passes_the_org(world: World) -> None:
    client = world.leads.client
    assert await load_profile(world.store) == default_profile()
    assert await check_profile(world.store, client, default_profile()) == []


async def test_bad_field_and_bad_filter_are_rejected_and_nothing_is_saved(world: World) -> None:
    client = world.leads.client
    profile = (
        default_profile()
        .set_line("Lead", FieldMapping("Sauce__c", "status"))
        .set_filter("Contact", StepFilter("Sauce__c = 'hot'"))
        .set_line("Account", FieldMapping("Slogan", "name"))
    )
    with pytest.raises(ProfileError) as caught:
        await save_profile(world.store, client, profile)
    problems = {(p.step, p.field): p for p in caught.value.problems}
    assert set(problems) == {
        ("Lead", "mapping (Sauce__c)"),
        ("Contact", "filter.condition"),
        ("Account", "mapping[7] (Slogan)"),
    }
    assert "Lead has no field Sauce__c" in str(problems["Lead", "mapping (Sauce__c)"])
    assert "INVALID_FIELD" in str(problems["Contact", "filter.condition"])
    assert await world.store.get_state("profile:default") is None
    # Offline, only People's side is checked: the unknown Salesforce field passes.
    await save_profile(world.store, None, profile.set_filter("Contact", StepFilter()))
    assert (await load_profile(world.store)).step("Lead").lines[-1].salesforce_field == "Sauce__c"


async def test_mandatory_people_attributes_must_be_mapped(world: World) -> None:
    await world.store.define_attribute(
        AttributeDefinition("tier", AttributeType.NUMBER, mandatory=True), origin="test"
    )
    with pytest.raises(ProfileError) as caught:
        await save_profile(world.store, world.leads.client, default_profile())
    assert {(p.step, p.field) for p in caught.value.problems} == {
        ("Lead", "mapping (tier)"),
        ("Contact", "mapping (tier)"),
    }


async def test_changed_filter_resyncs_the_step(world: World) -> None:
    org, store, client = world.org, world.store, world.leads.client
    await org.create("Lead", LastName="Web", Company="A", Email="web@example.com", LeadSource="Web")
    await org.create(
        "Lead", LastName="Fair", Company="B", Email="fair@example.com", LeadSource="Trade Show"
    )
    web_only = default_profile().set_filter("Lead", StepFilter("LeadSource = 'Web'"))
    first = await save_profile(store, client, web_only)
    assert first.resync == {"Lead": "filter changed"}  # the default profile ran before

    async def run() -> tuple[int, int]:
        profile = await load_profile(store)
        step = profile.step("Lead").inbound_step()
        report = await InboundRunner(client, store, step, SystemClock()).run_once()
        return report.read, report.created

    assert await run() == (1, 1)
    assert await run() == (1, 0)  # the overlap window only
    switches_only = web_only.set_switches("Lead", delete=False)
    assert (await save_profile(store, client, switches_only)).resync == {}
    widened = switches_only.set_filter("Lead", StepFilter("LeadSource IN ('Web', 'Trade Show')"))
    dry = await save_profile(store, client, widened, dry_run=True)
    assert dry.resync == {"Lead": "filter changed"} and not dry.saved
    assert (await load_profile(store)) == switches_only
    assert (await save_profile(store, client, widened)).resync == {"Lead": "filter changed"}
    assert await run() == (2, 1)  # everything re-read under the new filter; the web lead unchanged


async def test_runners_follow_the_profile(world: World) -> None:
    profile = (
        default_profile()
        .set_enabled("Contact", False)
        .clone("Lead", "Hot leads")
        .set_filter("Hot leads", StepFilter("Rating = 'Hot'"))
    )
    profile = profile.remove("Account").add(default_profile().step("Account"))
    runners = profile_runners(world.leads.client, world.store, profile)
    assert list(runners) == ["Account", "Lead", "Hot leads"]  # companies first
    assert isinstance(runners["Account"], CompanyRunner)
    assert runners["Hot leads"].step.condition == "(Rating = 'Hot')"
    assert runners["Hot leads"].step.cursor_key != runners["Lead"].step.cursor_key
