"""Integration status against the sandbox org: problems by record, counters, the API budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from peoplesync.clock import ManualClock
from peoplesync.salesforce.failure import ApiLimitReachedError
from peoplesync.sync.inbound.runner import InboundRunner, InboundStep
from peoplesync.sync.mapping import DEFAULT_MAPPINGS
from peoplesync.sync.status.recorder import StatusRecorder
from peoplesync.sync.status.state import State, paused, replace_share
from peoplesync.sync.status.store import StatusStore
from tests.integration.sync.conftest import World

START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # the sandbox org's clock


def _setup(
    world: World,
) -> tuple[ManualClock, StatusStore, StatusRecorder, dict[str, InboundRunner]]:
    clock = ManualClock(START)
    client = world.leads.client
    statuses = StatusStore(world.store.engine, clock)
    runners = {
        sobject: InboundRunner(
            client, world.store, InboundStep(sobject, DEFAULT_MAPPINGS[sobject]), clock
        )
        for sobject in ("Lead", "Contact")
    }
    return clock, statuses, StatusRecorder(statuses, "default", client, clock), runners


async def _set_limit(world: World, limit: int) -> None:
    response = await world.org.client.put("/sandbox/admin/knobs", json={"api_daily_limit": limit})
    assert response.status_code == 200, response.text


async def test_a_bad_record_is_listed_until_it_syncs_fine(world: World) -> None:
    clock, statuses, recorder, runners = _setup(world)
    lead = await world.org.create(
        "Lead", LastName="Bad", Company="X", Email="bad@example.com", Phone="call me maybe"
    )
    await world.org.create("Lead", LastName="Good", Company="X", Email="good@example.com")
    report = await recorder.run_step("Lead", runners["Lead"])
    assert report.created == 1
    [problem] = await statuses.problems("default")
    assert (problem["code"], problem["record_id"], problem["step"]) == (
        "INVALID_PHONE",
        lead,
        "Lead",
    )
    assert "Phone" in problem["field"]
    assert "international" in problem["hint"]
    days = await statuses.daily("default", START.date())
    assert days[START.date()]["Lead"].created == 1
    assert days[START.date()]["Lead"].rejected == 1
    assert days[START.date()][""].api_calls >= 1
    assert "Lead" in await statuses.last_sync("default")
    [entry] = await statuses.operations("default")
    assert (entry.operation, entry.object, entry.outcome) == ("poll", "Lead", "partial")

    await recorder.run_step("Lead", runners["Lead"])  # the same version read again
    [again] = await statuses.problems("default")
    assert again["count"] == 1

    world.org.clock.advance(minutes=1)
    clock.advance(timedelta(minutes=1))
    response = await world.org.client.patch(
        f"/services/data/v59.0/sobjects/Lead/{lead}", json={"Phone": "still no number"}
    )
    assert response.status_code == 204, response.text
    await recorder.run_step("Lead", runners["Lead"])  # a new version, still bad: seen again
    [edited] = await statuses.problems("default")
    assert edited["count"] == 2

    world.org.clock.advance(minutes=1)
    clock.advance(timedelta(minutes=1))
    response = await world.org.client.patch(
        f"/services/data/v59.0/sobjects/Lead/{lead}", json={"Phone": "+14155550123"}
    )
    assert response.status_code == 204, response.text
    fixed = await recorder.run_step("Lead", runners["Lead"])
    assert fixed.created == 1
    assert await statuses.problems("default") == []


async def test_the_share_of_the_allowance_stops_calls_before_the_org_refuses(
    world: World,
) -> None:
    clock, statuses, recorder, runners = _setup(world)
    await world.org.create("Lead", LastName="One", Company="X", Email="one@example.com")
    await world.org.create("Contact", LastName="Two", Email="two@example.com")
    await _set_limit(world, 400)
    await statuses.transition("default", lambda s: replace_share(s, 0.01))  # 4 calls a day
    await recorder.install_budget()
    await recorder.run_step("Lead", runners["Lead"])  # one query
    world.leads.client.usage.calls += 3  # as if three more calls were made today
    with pytest.raises(ApiLimitReachedError) as stopped:
        await recorder.run_step("Contact", runners["Contact"])
    await recorder.failed(stopped.value)
    status = await statuses.status("default")
    assert status.state is State.API_LIMIT_REACHED
    assert status.until == START + timedelta(hours=1)
    assert (await recorder.gate()).action == "wait"
    log = (await world.org.client.get("/sandbox/admin/requests")).json()
    assert all(entry["status"] != 403 for entry in log)  # Salesforce never had to refuse

    await statuses.transition("default", lambda s: replace_share(s, 0.5))
    recorder = StatusRecorder(statuses, "default", world.leads.client, clock)
    await recorder.install_budget()
    clock.advance(timedelta(hours=1))
    assert (await recorder.gate()).action == "run"  # one read of /limits: room again
    assert (await statuses.status("default")).state is State.ACTIVE
    report = await recorder.run_step("Contact", runners["Contact"])
    assert report.created == 1


async def test_request_limit_exceeded_waits_for_the_allowance_to_return(world: World) -> None:
    clock, statuses, recorder, runners = _setup(world)
    await world.org.create("Lead", LastName="One", Company="X", Email="one@example.com")
    allowance = int(
        (await world.org.client.get("/services/data/v59.0/limits")).json()["DailyApiRequests"][
            "Max"
        ]
    )
    await _set_limit(world, 1)  # the org's allowance is spent
    with pytest.raises(ApiLimitReachedError) as stopped:
        await recorder.run_step("Lead", runners["Lead"])
    await recorder.failed(stopped.value)
    assert (await statuses.status("default")).state is State.API_LIMIT_REACHED
    clock.advance(timedelta(hours=1))
    decision = await recorder.gate()  # the read of /limits is refused too
    assert decision.action == "wait"
    assert decision.until == clock.now() + timedelta(hours=1)

    await _set_limit(world, allowance)
    assert (await recorder.gate()).action == "wait"  # not before its time
    clock.advance(timedelta(hours=1))
    assert (await recorder.gate()).action == "run"
    assert (await recorder.run_step("Lead", runners["Lead"])).created == 1
    operations = [o.operation for o in await statuses.operations("default")]
    assert "api_limit_reached" in operations
    assert "active" in operations


async def test_pause_outlives_a_pass_and_delete_keeps_persons(world: World) -> None:
    clock, statuses, recorder, runners = _setup(world)
    await world.org.create("Lead", LastName="One", Company="X", Email="one@example.com")
    await recorder.run_step("Lead", runners["Lead"])
    await statuses.transition("default", lambda s: paused(s, clock.now()))
    await recorder.succeeded()
    assert (await recorder.gate()).action == "refuse"
    await world.store.set_state("integration:default", {"login_url": "x"})
    removed = await statuses.delete_integration("default", "salesforce:default")
    assert removed == 1
    assert await world.store.get_state("integration:default") is None
    assert await world.store.get_state(runners["Lead"].step.cursor_key) is None
    assert await world.store.count_persons() == 1
    assert (await statuses.status("default")).state is State.ACTIVE
