"""Outbound sync end to end: People (SQLite, PostgreSQL) into the sandbox org (ASGI)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from peoplesync.clock import ManualClock, SystemClock
from peoplesync.people.model import PersonInput
from peoplesync.salesforce.failure import SalesforceUnavailableError
from peoplesync.sync.mapping import Direction, FieldMapping, Mode
from peoplesync.sync.outbound.runner import OutboundRunner, OutboundStep, default_steps
from tests.integration.org_client import client_for
from tests.integration.sandbox.conftest import API, BASE, Org

from .conftest import World

OUT = Direction.OUTBOUND


def pusher(
    world: World,
    steps: tuple[OutboundStep, ...] | None = None,
    clock: ManualClock | None = None,
    **options: Any,
) -> OutboundRunner:
    return OutboundRunner(
        world.leads.client,
        world.store,
        steps or default_steps(),
        clock or SystemClock(),
        **options,
    )


async def add(world: World, emails: list[str] | None = None, **values: Any) -> str:
    result = await world.store.upsert_persons(
        [PersonInput(values=values, emails=emails)], origin="ui"
    )
    (person_id,) = result.ids
    assert person_id is not None
    return person_id


async def edit(world: World, person_id: str, **values: Any) -> None:
    await world.store.upsert_persons([PersonInput(values=values, id=person_id)], origin="ui")


async def linked(world: World, person_id: str, sobject: str = "Lead") -> str:
    links = (await world.store.links_of("person", [person_id]))[person_id]
    (found,) = [link.external_id for link in links if link.object == sobject]
    return found


async def record(org: Org, sobject: str, record_id: str) -> dict[str, Any]:
    response = await org.client.get(f"{API}/sobjects/{sobject}/{record_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def writes(org: Org) -> int:
    """sObject Collections writes the org has answered."""
    log = (await org.client.get("/sandbox/admin/requests", params={"limit": "100000"})).json()
    return sum(
        1
        for entry in log
        if entry["path"].endswith("/composite/sobjects") and entry["method"] in ("POST", "PATCH")
    )


async def leads_with(org: Org, email: str) -> list[str]:
    body = await org.query(f"SELECT Id FROM Lead WHERE Email = '{email}'")
    return [r["Id"] for r in body["records"]]


async def test_a_new_person_becomes_a_lead_and_edits_reach_it(world: World) -> None:
    org = world.org
    ada = await add(
        world,
        ["Ada@Example.com"],
        first_name="Ada",
        last_name="Lovelace",
        company="Engines",
        title="Countess",
        city="London",
    )
    push = pusher(world)
    report = await push.run_once()
    assert (report.created, report.errors) == (1, [])
    lead_id = await linked(world, ada)
    lead = await record(org, "Lead", lead_id)
    assert (lead["LastName"], lead["Company"], lead["Email"], lead["City"]) == (
        "Lovelace",
        "Engines",
        "Ada@example.com",
        "London",
    )

    await edit(world, ada, title="Mathematician")
    report = await push.run_once()
    assert (report.created, report.updated) == (0, 1)
    assert (await record(org, "Lead", lead_id))["Title"] == "Mathematician"

    before = await writes(org)
    again = await push.run_once()
    assert (again.changes, again.updated, again.created) == (0, 0, 0)
    assert await writes(org) == before


async def test_no_ping_pong_between_push_and_inbound_sync(world: World) -> None:
    org = world.org
    await add(
        world,
        ["grace@navy.mil"],
        last_name="Hopper",
        company="Navy",
        title="Rear Admiral",
    )
    await add(world, ["alan@bletchley.uk"], last_name="Turing", company="GCCS")
    push = pusher(world)
    assert (await push.run_once()).created == 2
    seq = await world.store.last_change_seq()
    await world.leads.run_once()
    # Only what Salesforce added itself (the defaulted Lead Status) comes in: none of the
    # values the push wrote comes back as a change.
    assert all(set(c.changes) <= {"status"} for c in await world.store.changes_since(seq))
    before = await writes(org)
    report = await push.run_once()
    assert (report.persons, report.updated) == (0, 0)  # the status change is our own origin
    assert await writes(org) == before
    seq = await world.store.last_change_seq()
    await world.leads.run_once()
    assert await world.store.last_change_seq() == seq


async def test_a_converted_leads_person_updates_the_contact(world: World) -> None:
    org = world.org
    person = await add(world, ["conv@acme.com"], last_name="Convertible", company="Acme")
    push = pusher(world)
    await push.run_once()
    lead_id = await linked(world, person)
    converted = await org.soap(
        f"<urn:convertLead><urn:leadConverts><urn:leadId>{lead_id}</urn:leadId>"
        "<urn:doNotCreateOpportunity>true</urn:doNotCreateOpportunity>"
        "</urn:leadConverts></urn:convertLead>"
    )
    assert "<success>true</success>" in converted.text
    await world.leads.run_once()  # follows the conversion: the person links the Contact
    contact_id = await linked(world, person, "Contact")

    await edit(world, person, title="CTO")
    report = await push.run_once()
    assert (report.updated, report.errors) == (1, [])
    assert (await record(org, "Contact", contact_id))["Title"] == "CTO"
    assert (await record(org, "Lead", lead_id))["Title"] is None  # never the converted Lead


async def test_fill_and_separate_create_and_update_sets(world: World) -> None:
    org = world.org
    lines = (
        FieldMapping("LastName", "last_name", OUT),
        FieldMapping("Company", "company", OUT),
        FieldMapping("Email", "emails", OUT),
        FieldMapping("Title", "title", OUT, mode=Mode.FILL),
        FieldMapping("City", "city", OUT, on_update=False),
        FieldMapping("Country", "country", OUT, on_create=False),
    )
    push = pusher(world, (OutboundStep("Lead", lines),))
    titled = await add(
        world,
        ["t@x.com"],
        last_name="Titled",
        company="X",
        title="Engineer",
        city="London",
        country="UK",
    )
    untitled = await add(world, ["u@x.com"], last_name="Untitled", company="X")
    assert (await push.run_once()).created == 2
    first = await record(org, "Lead", await linked(world, titled))
    assert (first["Title"], first["City"], first["Country"]) == ("Engineer", "London", None)

    await edit(world, titled, title="Manager", city="Paris", country="France")
    await edit(world, untitled, title="Intern")
    await push.run_once()
    first = await record(org, "Lead", await linked(world, titled))
    assert first["Title"] == "Engineer"  # Fill does not overwrite
    assert first["City"] == "London"  # create-only line
    assert first["Country"] == "France"  # update-only line
    second = await record(org, "Lead", await linked(world, untitled))
    assert second["Title"] == "Intern"  # Fill writes into an empty field


async def test_bad_values_become_error_entries_while_the_rest_proceeds(
    world: World, clock: ManualClock
) -> None:
    good = await add(world, ["ok@example.com"], last_name="Good", company="A")
    no_last = await add(world, ["nolast@example.com"], first_name="Nolast", company="A")
    too_long = await add(
        world, ["long@example.com"], last_name="Long", company="A", title="x" * 200
    )
    bad_email = await add(world, ["jürgen@example.com"], last_name="Umlaut", company="A")
    no_company = await add(world, ["nocomp@example.com"], last_name="Nocomp")
    push = pusher(world, clock=clock)
    report = await push.run_once()
    assert report.created == 1
    await linked(world, good)
    found = {error.record: (error.code, error.field) for error in report.errors}
    assert found == {
        f"person {no_last}": ("REQUIRED_FIELD_MISSING", "LastName"),
        f"person {too_long}": ("STRING_TOO_LONG", "Title"),
        f"person {bad_email}": ("INVALID_EMAIL_ADDRESS", "Email"),
        f"person {no_company}": ("MANDATORY_MISSING", "company"),
    }
    assert all(error.hint for error in report.errors)
    assert report.retrying == 3  # Salesforce's rejections; the missing company waits for an edit

    later = await push.run_once()
    assert (later.persons, later.created) == (0, 0)  # not due yet
    clock.advance(timedelta(minutes=2))
    retried = await push.run_once()
    assert (retried.persons, retried.created, len(retried.errors)) == (3, 0, 3)

    await edit(world, no_last, last_name="Fixed")
    await edit(world, no_company, company="Found")
    fixed = await push.run_once()
    assert fixed.created == 2
    assert fixed.retrying == 2


async def test_an_existing_lead_with_the_email_is_linked_not_duplicated(world: World) -> None:
    org = world.org
    existing = await org.create("Lead", LastName="Old", Company="Acme", Email="Dup@Example.com")
    person = await add(world, ["dup@example.com"], last_name="New", company="Acme", title="CEO")
    report = await pusher(world).run_once()
    assert (report.created, report.linked, report.updated) == (0, 1, 1)
    assert await leads_with(org, "dup@example.com") == [existing]
    assert await linked(world, person) == existing
    lead = await record(org, "Lead", existing)
    assert (lead["LastName"], lead["Title"]) == ("New", "CEO")


class LoseFirstCreateAnswer(httpx.AsyncBaseTransport):
    """Delivers the first create to the org, then times out instead of answering."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.lost = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if (
            not self.lost
            and request.method == "POST"
            and request.url.path.endswith("/composite/sobjects")
        ):
            self.lost = True
            await response.aread()
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


async def test_a_timed_out_create_is_checked_by_email_before_creating_again(
    world: World,
) -> None:
    org = world.org
    emails = [f"p{i}@timeout.example" for i in range(3)]
    persons = [
        await add(world, [email], last_name=f"P{i}", company="T") for i, email in enumerate(emails)
    ]
    transport = LoseFirstCreateAnswer(httpx.ASGITransport(app=org.app))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        client = client_for(org, http)
        push = OutboundRunner(client, world.store, default_steps(), SystemClock())
        with pytest.raises(SalesforceUnavailableError):
            await push.run_once()
        report = await push.run_once()
    assert (report.created, report.linked) == (0, 3)
    for person, email in zip(persons, emails, strict=True):
        assert await leads_with(org, email) == [await linked(world, person)]


async def test_a_page_read_ahead_reads_again_what_the_page_before_pushed(world: World) -> None:
    first = await add(world, ["ahead1@example.com"], last_name="One", company="Acme")
    second = await add(world, ["ahead2@example.com"], last_name="Two", company="Acme")
    await pusher(world).run_once()
    before = await writes(world.org)
    # Four changes, two a page: the second page is read while the first is pushed, and holds
    # the same two persons again.
    await edit(world, first, title="Chief")
    await edit(world, second, title="Deputy")
    await edit(world, first, city="Oslo")
    await edit(world, second, city="Bergen")
    report = await pusher(world, page_size=2).run_once()
    # The first page wrote both persons' title and city; the second finds them written (its
    # links read again after the first page's commit) instead of writing them once more.
    assert (report.updated, report.unchanged) == (2, 2)
    assert await writes(world.org) == before + 1
    lead = await record(world.org, "Lead", await linked(world, first))
    assert (lead["Title"], lead["City"]) == ("Chief", "Oslo")
    assert len(await leads_with(world.org, "ahead1@example.com")) == 1
