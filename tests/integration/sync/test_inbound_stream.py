"""Change Data Capture: edits in the sandbox org reach People through the stream, resumably."""

from __future__ import annotations

from peoplesync.sync.inbound.runner import InboundReport, InboundRunner
from peoplesync.sync.status.store import StatusStore
from tests.integration.sandbox.conftest import API

from .conftest import World


def after_changes(count: int):  # type: ignore[no-untyped-def]
    def stop(report: InboundReport) -> bool:
        return report.read >= count

    return stop


async def test_stream_creates_updates_and_resumes_from_the_stored_replay_id(world: World) -> None:
    org = world.org
    org.config.streaming_timeout_seconds = 0.3  # quiet long polls end quickly in tests
    lead = await org.create(
        "Lead", FirstName="Stream", LastName="Lined", Company="CDC", Email="stream@cdc.example"
    )
    first = await world.leads.follow_changes(stop=after_changes(1), poll_timeout=10)
    assert (first.read, first.created) == (1, 1)
    person_id = (await world.store.find_by_emails(["stream@cdc.example"]))["stream@cdc.example"]
    await org.client.patch(f"{API}/sobjects/Lead/{lead}", json={"City": "Streamville"})
    fresh = InboundRunner(
        world.leads.client, world.store, world.leads.step, world.leads.clock
    )  # a restart
    second = await fresh.follow_changes(stop=after_changes(1), poll_timeout=10)
    assert (second.read, second.updated) == (1, 1)  # the create was not replayed
    assert (await world.store.get_persons([person_id]))[person_id].get("city") == "Streamville"
    state = await world.store.get_state(world.leads.step.stream_key)
    assert state is not None
    assert state["replay_id"] >= 2


async def test_a_streamed_batch_writes_its_errors_and_warnings_with_it(world: World) -> None:
    org = world.org
    org.config.streaming_timeout_seconds = 0.3
    lead = await org.create("Lead", LastName="Convertible", Company="Acme", Email="conv@acme.com")
    await world.leads.run_once()
    converted = await org.soap(
        f"<urn:convertLead><urn:leadConverts><urn:leadId>{lead}</urn:leadId>"
        "<urn:doNotCreateOpportunity>true</urn:doNotCreateOpportunity></urn:leadConverts>"
        "</urn:convertLead>"
    )
    assert "<success>true</success>" in converted.text
    bad = await org.create(
        "Lead", LastName="Bad", Company="X", Email="bad@example.com", Phone="call me maybe"
    )

    def both(report: InboundReport) -> bool:
        return bool(report.warnings and report.rejected)

    await world.leads.follow_changes(stop=both, poll_timeout=10)
    # No status recorder ran: the batches wrote their error entries themselves.
    problems = await StatusStore(world.store.engine, world.leads.clock).problems("default")
    assert {(p["step"], p["code"], p["record_id"]) for p in problems} == {
        ("Lead", "LEAD_CONVERTED", lead),
        ("Lead", "INVALID_PHONE", bad),
    }
