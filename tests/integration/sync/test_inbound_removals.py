"""Deletes, undeletes and merges in Salesforce reach People, by polling and by the stream."""

from __future__ import annotations

from dataclasses import replace

from peoplesync.sync.inbound.runner import InboundReport, InboundRunner
from tests.integration.sandbox.conftest import API

from .conftest import World


async def person_of(world: World, email: str) -> str | None:
    return (await world.store.find_by_emails([email])).get(email)


async def linked_ids(world: World, person_id: str) -> set[str]:
    links = (await world.store.links_of("person", [person_id])).get(person_id, [])
    return {link.external_id for link in links}


async def test_deletes_follow_the_step_switch_and_undeletes_come_back(world: World) -> None:
    org = world.org
    alone = await org.create("Lead", LastName="Alone", Company="A", Email="alone@example.com")
    both = await org.create("Lead", LastName="Both", Company="B", Email="both@example.com")
    contact = await org.create("Contact", LastName="Both", Email="both@example.com")
    kept = await org.create("Lead", LastName="Kept", Company="K", Email="kept@example.com")
    await world.leads.run_once()
    await world.contacts.run_once()
    assert await world.store.count_persons() == 3
    both_person = await person_of(world, "both@example.com")
    assert both_person is not None
    before = await world.store.last_change_seq()

    for record in (alone, both):
        response = await org.client.delete(f"{API}/sobjects/Lead/{record}")
        assert response.status_code == 204
    report = await world.leads.run_once()
    assert (report.deleted, report.unlinked) == (1, 1)
    assert await person_of(world, "alone@example.com") is None  # its only link was deleted
    assert await linked_ids(world, both_person) == {contact}  # still a contact: kept, unlinked
    deletes = [c for c in await world.store.changes_since(before) if c.operation == "delete"]
    assert len(deletes) == 1 and deletes[0].origin == "salesforce:default"

    keep_persons = InboundRunner(
        world.leads.client,
        world.store,
        replace(world.leads.step, delete=False),
        world.leads.clock,
    )
    await org.client.delete(f"{API}/sobjects/Lead/{kept}")
    switched_off = await keep_persons.run_once()
    assert (switched_off.deleted, switched_off.unlinked) == (0, 1)
    kept_person = await person_of(world, "kept@example.com")
    assert kept_person is not None and await linked_ids(world, kept_person) == set()

    restored = await org.soap(f"<urn:undelete><urn:ids>{alone}</urn:ids></urn:undelete>")
    assert "<success>true</success>" in restored.text
    back = await world.leads.run_once()
    assert back.created == 1
    returned = await person_of(world, "alone@example.com")
    assert returned is not None and await linked_ids(world, returned) == {alone}
    again = await world.leads.run_once()  # deleted records already followed are skipped
    assert again.deleted == again.unlinked == again.created == 0


async def test_merged_leads_fold_their_persons_into_the_master(world: World) -> None:
    org = world.org
    master = await org.create(
        "Lead", FirstName="Marie", LastName="Curie", Company="Sorbonne", Email="marie@sorbonne.fr"
    )
    loser = await org.create(
        "Lead",
        LastName="Curie",
        Company="Radium Institute",
        Email="m.curie@radium.fr",
        City="Paris",
        MobilePhone="+33612345678",
    )
    await world.leads.run_once()
    assert await world.store.count_persons() == 2
    survivor = await person_of(world, "marie@sorbonne.fr")
    assert survivor is not None
    merged = await org.soap(
        f"<urn:merge><urn:request><urn:masterRecord><urn:Id>{master}</urn:Id></urn:masterRecord>"
        f"<urn:recordToMergeIds>{loser}</urn:recordToMergeIds></urn:request></urn:merge>"
    )
    assert "<success>true</success>" in merged.text
    report = await world.leads.run_once()
    assert report.merged == 1
    assert await world.store.count_persons() == 1
    person = (await world.store.get_persons([survivor]))[survivor]
    assert person.emails == ("marie@sorbonne.fr", "m.curie@radium.fr")
    assert person.get("city") == "Paris"  # filled from the merged person
    assert person.get("first_name") == "Marie"  # the master's own values stay
    assert person.phones == ("+33612345678",)
    assert await linked_ids(world, survivor) == {master}
    last = (await world.store.changes_since(0))[-1]
    assert last.entity_id == survivor and "merged_from" in last.changes


async def test_the_stream_follows_deletes(world: World) -> None:
    org = world.org
    org.config.streaming_timeout_seconds = 0.3
    lead = await org.create("Lead", LastName="Streamed", Company="S", Email="gone@example.com")
    await world.leads.run_once()
    await world.leads.follow_changes(stop=lambda r: r.read >= 1, poll_timeout=10)  # the create
    await org.client.delete(f"{API}/sobjects/Lead/{lead}")

    def deleted(report: InboundReport) -> bool:
        return report.deleted >= 1

    report = await world.leads.follow_changes(stop=deleted, poll_timeout=10)
    assert report.deleted == 1
    assert await person_of(world, "gone@example.com") is None
