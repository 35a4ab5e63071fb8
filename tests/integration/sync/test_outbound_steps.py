"""Pushes as profile steps: status (counters, errors, log), deletes per switch, the preview,
and outbound steps checked against describe when saved."""

from __future__ import annotations

import dataclasses

import pytest

from peoplesync.clock import ManualClock
from peoplesync.people.model import PersonInput
from peoplesync.sync.mapping import Direction, FieldMapping
from peoplesync.sync.outbound.preview import PreviewClient
from peoplesync.sync.outbound.runner import OutboundRunner
from peoplesync.sync.profile.model import ProfileError, default_profile
from peoplesync.sync.profile.store import check_profile, load_profile, save_profile
from peoplesync.sync.status.recorder import API_STEP, StatusRecorder
from peoplesync.sync.status.state import State, gate, paused
from peoplesync.sync.status.store import StatusStore

from .conftest import World
from .test_outbound import add, edit, leads_with, linked, pusher, record, writes

OUT = Direction.OUTBOUND


async def test_a_push_records_counters_errors_and_the_log(world: World, clock: ManualClock) -> None:
    statuses = StatusStore(world.store.engine, clock)
    push = pusher(world, default_profile().outbound_steps(), clock)
    recorder = StatusRecorder(statuses, "default", push.client, clock)
    good = await add(world, ["fine@example.com"], last_name="Fine", company="A")
    long = await add(world, ["long@example.com"], last_name="Long", company="A", title="x" * 200)
    report = await recorder.run_push(push)
    assert (report.created, len(report.errors)) == (1, 1)
    await linked(world, good)

    day = (await statuses.daily("default", clock.now().date()))[clock.now().date()]
    assert (day["Person to Lead"].created, day["Person to Lead"].rejected) == (1, 1)
    assert day[API_STEP].api_calls >= 2  # the email lookup and the create
    [problem] = await statuses.problems("default")
    assert (problem["code"], problem["step"], problem["record_id"], problem["field"]) == (
        "STRING_TOO_LONG",
        "Person to Lead",
        f"person {long}",
        "Title",
    )
    assert problem["hint"]
    assert "Person to Lead" in await statuses.last_sync("default")
    [entry] = await statuses.operations("default")
    assert (entry.operation, entry.outcome, entry.records) == ("push", "partial", 2)

    await edit(world, long, title="Short")
    fixed = await recorder.run_push(push)
    assert (fixed.created, fixed.errors) == (1, [])
    assert await statuses.problems("default") == []  # cleared once the person pushed fine
    idle = await recorder.run_push(push)
    assert idle.persons == 0
    assert len(await statuses.operations("default")) == 2  # an idle pass logs nothing

    await statuses.transition("default", lambda s: paused(s, clock.now()))
    decision = gate(await statuses.status("default"), clock.now())
    assert (decision.action, (await statuses.status("default")).state) == ("refuse", State.PAUSED)


async def test_deletes_follow_the_switch_and_spare_converted_leads(world: World) -> None:
    org = world.org
    keep = await add(world, ["keep@example.com"], last_name="Keep", company="K")
    drop = await add(world, ["drop@example.com"], last_name="Drop", company="D")
    conv = await add(world, ["conv@example.com"], last_name="Conv", company="C")
    plain = pusher(world, default_profile().outbound_steps())
    assert (await plain.run_once()).created == 3
    keep_lead, drop_lead, conv_lead = [await linked(world, p) for p in (keep, drop, conv)]
    converted = await org.soap(
        f"<urn:convertLead><urn:leadConverts><urn:leadId>{conv_lead}</urn:leadId>"
        "<urn:doNotCreateOpportunity>true</urn:doNotCreateOpportunity>"
        "</urn:leadConverts></urn:convertLead>"
    )
    assert "<success>true</success>" in converted.text
    await world.leads.run_once()  # the person follows the conversion to its Contact
    contact = await linked(world, conv, "Contact")

    # Delete switch off (the default): the person goes, its Lead stays, its links are forgotten.
    await world.store.delete_persons([keep], origin="ui")
    report = await plain.run_once()
    assert (report.deleted, report.forgotten) == (0, 1)
    assert await leads_with(org, "keep@example.com") == [keep_lead]

    # Switched on: the Lead is deleted; a converted Lead never is, its Contact is.
    deleting = pusher(
        world,
        tuple(dataclasses.replace(s, delete=True) for s in default_profile().outbound_steps()),
    )
    await world.store.delete_persons([drop, conv], origin="ui")
    report = await deleting.run_once()
    assert report.errors == []
    assert await leads_with(org, "drop@example.com") == []
    assert (await record(org, "Lead", conv_lead))["IsConverted"] is True
    gone = await org.client.get(f"/services/data/v59.0/sobjects/Contact/{contact}")
    assert gone.status_code == 404
    assert report.deleted == 2
    assert report.steps["Person to Lead"].deleted == 1
    assert report.steps["Person to Contact"].deleted == 1
    assert (
        await org.client.get(f"/services/data/v59.0/sobjects/Lead/{drop_lead}")
    ).status_code == 404
    # A repeat (a crash before the position was stored) finds nothing left to do.
    assert (await deleting.run_once()).errors == []


async def test_preview_counts_and_samples_without_writing(world: World) -> None:
    org = world.org
    existing = await add(world, ["old@example.com"], last_name="Old", company="O")
    push = pusher(world, default_profile().outbound_steps())
    await push.run_once()
    await edit(world, existing, title="Boss")
    for i in range(3):
        await add(world, [f"new{i}@example.com"], last_name=f"New {i}", company="N")
    await add(world, ["toolong@example.com"], last_name="Long", company="N", title="x" * 200)
    await add(world, ["nocompany@example.com"], last_name="Alone")
    before = await writes(org)
    dry = PreviewClient(push.client)
    preview = OutboundRunner(dry, world.store, push.steps.values(), push.clock, dry_run=True)
    report = await preview.run_once()
    assert (report.created, report.updated, len(report.errors)) == (3, 1, 2)
    assert {e.code for e in report.errors} == {"STRING_TOO_LONG", "MANDATORY_MISSING"}
    assert [s["LastName"] for s in dry.samples["create Lead"]] == ["New 0", "New 1", "New 2"]
    assert dry.samples["update Lead"][0]["Title"] == "Boss"
    assert await writes(org) == before  # nothing was written
    assert dry.usage.calls >= 1  # the email lookup went to the org
    # Nothing was committed either: the real push does all of it.
    real = await push.run_once()
    assert (real.created, real.updated) == (3, 1)
    assert await writes(org) > before


async def test_saving_checks_outbound_steps_against_describe(world: World) -> None:
    client = world.leads.client
    profile = default_profile()
    assert await check_profile(world.store, client, profile) == []
    without_last = profile.remove_line("Person to Lead", "LastName")
    with pytest.raises(ProfileError) as rejected:
        await save_profile(world.store, client, without_last)
    found = {(p.step, p.field) for p in rejected.value.problems}
    assert ("Person to Lead", "mapping (LastName)") in found
    assert "Lead.LastName" in str(rejected.value)
    # Without creating, nothing is required; a read-only field is still refused.
    updating = without_last.set_switches("Person to Lead", create=False).set_switches(
        "Person to Contact", create=True
    )
    assert await check_profile(world.store, client, updating) == []
    read_only = profile.set_line("Person to Lead", FieldMapping("IsConverted", "title", OUT))
    problems = await check_profile(world.store, client, read_only)
    index = len(read_only.step("Person to Lead").lines) - 1
    assert problems
    assert {(p.step, p.field) for p in problems} == {
        ("Person to Lead", f"mapping[{index}] (IsConverted)")
    }
    await save_profile(world.store, client, updating)
    assert (await load_profile(world.store)).outbound_steps()[0].create is False


async def test_a_preview_above_the_bulk_break_even_sends_no_job(world: World) -> None:
    org = world.org
    await world.store.upsert_persons(
        [
            PersonInput(
                values={"last_name": f"Many {i}", "company": "Bulk"},
                emails=[f"many{i}@bulk.example"],
            )
            for i in range(1300)
        ],
        origin="ui",
    )
    push = pusher(world, default_profile().outbound_steps())
    dry = PreviewClient(push.client)
    preview = OutboundRunner(dry, world.store, push.steps.values(), push.clock, dry_run=True)
    report = await preview.run_once()
    assert report.created == 1300
    log = (await org.client.get("/sandbox/admin/requests", params={"limit": "100000"})).json()
    assert not [e for e in log if e["method"] != "GET" and "/jobs/" in e["path"]]
