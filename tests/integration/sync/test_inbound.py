"""Inbound sync end to end: the sandbox org (ASGI) into the People store (SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from peoplesync.sync.inbound.runner import InboundRunner, InboundStep
from peoplesync.sync.mapping import DEFAULT_MAPPINGS, FieldMapping
from tests.integration.sandbox.conftest import API

from .conftest import World


async def test_initial_transfer_matching_no_op_rerun_and_edits(world: World) -> None:
    org = world.org
    ada = await org.create(
        "Lead",
        FirstName="Ada",
        LastName="Lovelace",
        Company="Engines",
        Email="Ada@Example.com",
        City="London",
    )
    await org.create("Lead", LastName="Hopper", Company="Navy", Email="grace@navy.mil")
    await org.create(
        "Lead", LastName="Bad Phone", Company="X", Email="bad@example.com", Phone="call me maybe"
    )
    account = await org.create("Account", Name="Analytical Society")
    await org.create(
        "Contact",
        FirstName="Ada",
        LastName="Lovelace",
        Email="ada@example.COM",
        AccountId=account,
        Title="Countess",
    )
    await org.create("Contact", LastName="Turing", Email="alan@bletchley.uk")

    leads = await world.leads.run_once()
    contacts = await world.contacts.run_once()
    assert (leads.read, leads.created) == (3, 2)
    (bad_phone,) = leads.rejected
    assert bad_phone.record is not None
    assert bad_phone.record.startswith("Lead 00Q")
    assert bad_phone.field == "Phone, MobilePhone"  # named in Salesforce's terms
    assert "call me maybe" in str(bad_phone)
    assert bad_phone.code == "INVALID_PHONE"
    assert (contacts.read, contacts.created, contacts.updated) == (
        2,
        1,
        1,
    )  # Ada's contact joined Ada's lead
    assert await world.store.count_persons() == 3
    ada_id = (await world.store.find_by_emails(["ada@example.com"]))["ada@example.com"]
    ada_person = (await world.store.get_persons([ada_id]))[ada_id]
    assert ada_person.get("title") == "Countess"
    assert ada_person.get("company") == "Analytical Society"  # Contact maps Account.Name
    linked = {
        (link.object, link.external_id)
        for link in (await world.store.links_of("person", [ada_id]))[ada_id]
    }
    assert ("Lead", ada) in linked
    assert len(linked) == 2

    changes_before = await world.store.last_change_seq()
    again = await world.leads.run_once()
    assert again.created == again.updated == 0  # the overlap is re-read, nothing is written
    assert await world.store.last_change_seq() == changes_before

    await org.client.patch(f"{API}/sobjects/Lead/{ada}", json={"City": "Paris"})
    edited = await world.leads.run_once()
    assert edited.updated == 1
    assert (await world.store.get_persons([ada_id]))[ada_id].get("city") == "Paris"
    last = (await world.store.changes_since(changes_before))[-1]
    assert (last.origin, set(last.changes)) == ("salesforce:default", {"city"})


async def test_converted_lead_follows_its_contact(world: World) -> None:
    org = world.org
    lead = await org.create("Lead", LastName="Convertible", Company="Acme", Email="conv@acme.com")
    await world.leads.run_once()
    converted = await org.soap(
        f"<urn:convertLead><urn:leadConverts><urn:leadId>{lead}</urn:leadId>"
        "<urn:doNotCreateOpportunity>true</urn:doNotCreateOpportunity></urn:leadConverts></urn:convertLead>"
    )
    assert "<success>true</success>" in converted.text
    report = await world.leads.run_once()
    assert any(lead in w for w in report.warnings)
    person_id = (await world.store.find_by_emails(["conv@acme.com"]))["conv@acme.com"]
    objects = {
        link.object for link in (await world.store.links_of("person", [person_id]))[person_id]
    }
    assert objects == {"Lead", "Contact"}
    await world.contacts.run_once()
    assert await world.store.count_persons() == 1  # never duplicated


async def test_progress_reports_totals_from_the_first_page(world: World) -> None:
    for i in range(5):
        await world.org.create("Lead", LastName=f"P{i}", Company="Acme", Email=f"p{i}@acme.com")
    seen: list[tuple[int, int]] = []
    report = await world.leads.run_once(lambda done, total: seen.append((done, total)))
    assert report.read == 5
    assert seen[0] == (0, 5)
    assert seen[-1] == (5, 5)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


async def test_records_sharing_an_email_link_the_primary_and_report_the_rest(world: World) -> None:
    first = await world.org.create("Lead", LastName="First", Company="A", Email="same@example.com")
    second = await world.org.create(
        "Lead", LastName="Second", Company="B", Email="SAME@example.com"
    )
    report = await world.leads.run_once()
    assert report.created == 1
    assert len(report.duplicates) == 1
    assert second in report.duplicates[0]
    assert first in report.duplicates[0]
    third = await world.org.create("Lead", LastName="Third", Company="C", Email="same@EXAMPLE.com")
    later = await world.leads.run_once()
    assert any(third in d for d in later.duplicates)
    person_id = (await world.store.find_by_emails(["same@example.com"]))["same@example.com"]
    leads = [
        link.external_id for link in (await world.store.links_of("person", [person_id]))[person_id]
    ]
    assert leads == [first]
    assert await world.store.count_persons() == 1


async def test_bad_records_are_rejected_with_their_field_and_the_rest_proceeds(
    world: World,
) -> None:
    org = world.org
    good = await org.create("Lead", LastName="Good", Company="Fine", Email="good@fine.example")
    # Salesforce accepts this address; People does not (two dots in a row).
    dotted = await org.create(
        "Lead", LastName="Dotted", Company="X", Email="ada..lovelace@example.com"
    )
    wordy = await org.create(
        "Lead", LastName="Wordy", Company="X", Email="wordy@x.example", Description="x" * 1500
    )
    lines = tuple(
        FieldMapping("Description", "address") if line.salesforce_field == "Street" else line
        for line in DEFAULT_MAPPINGS["Lead"]
    )
    runner = InboundRunner(
        world.leads.client, world.store, InboundStep("Lead", lines), world.leads.clock
    )
    report = await runner.run_once()
    assert (report.read, report.created) == (3, 1)
    errors = {error.record: error for error in report.rejected}
    assert errors[f"Lead {dotted}"].field == "Email"
    assert "ada..lovelace@example.com" in str(errors[f"Lead {dotted}"])
    assert errors[f"Lead {wordy}"].field == "Description"
    assert "1000" in str(errors[f"Lead {wordy}"])
    assert f"Lead {good}" not in errors
    assert await world.store.count_persons() == 1


async def test_records_committed_late_behind_the_cursor_are_not_missed(world: World) -> None:
    org = world.org
    await org.create("Lead", LastName="First", Company="A", Email="first@a.example")
    org.clock.advance(seconds=30)
    await org.create("Lead", LastName="Second", Company="A", Email="second@a.example")
    assert (await world.leads.run_once()).created == 2
    # A transaction that started before the poll commits after it: its SystemModstamp lies
    # behind the cursor.
    org.clock.advance(seconds=-20)
    await org.create("Lead", LastName="Late", Company="A", Email="late@a.example")
    org.clock.advance(seconds=40)
    no_overlap = InboundRunner(
        world.leads.client,
        world.store,
        world.leads.step,
        world.leads.clock,
        overlap=timedelta(0),
        dry_run=True,
    )
    assert (await no_overlap.run_once()).created == 0  # a bare cursor would miss it
    report = await world.leads.run_once()
    assert report.created == 1
    assert "late@a.example" in await world.store.find_by_emails(["late@a.example"])


async def test_a_birth_date_in_the_future_rejects_that_contact_only(world: World) -> None:
    org = world.org
    born = await org.create(
        "Contact", LastName="Born", Email="born@x.example", Birthdate="1990-05-31"
    )
    unborn = await org.create(
        "Contact", LastName="Unborn", Email="unborn@x.example", Birthdate="2099-01-01"
    )
    report = await world.contacts.run_once()
    assert (report.read, report.created) == (2, 1)
    (rejected,) = report.rejected
    assert rejected.record == f"Contact {unborn}"
    assert rejected.field == "Birthdate"  # named in Salesforce's terms
    assert "2099-01-01" in str(rejected) and "future" in str(rejected)
    assert f"Contact {born}" != rejected.record
    assert await world.store.count_persons() == 1
