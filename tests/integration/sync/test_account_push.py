"""Company -> Account outbound: created, updated, linked, never duplicated, no ping-pong."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest

from peoplesync.clock import SystemClock
from peoplesync.people.model import CompanyInput, ExternalLink, PersonInput
from peoplesync.salesforce.failure import SalesforceUnavailableError
from peoplesync.sync.inbound.company import CompanyRunner, account_step
from peoplesync.sync.mapping import Direction, FieldMapping
from peoplesync.sync.outbound.account_plan import ACCOUNT_OUTBOUND
from peoplesync.sync.outbound.runner import OutboundRunner, OutboundStep, default_steps
from peoplesync.sync.profile.model import default_profile, outbound_step
from peoplesync.sync.profile.step_edits import added_step
from tests.integration.org_client import client_for
from tests.integration.sandbox.conftest import BASE

from .conftest import World
from .test_outbound import LoseFirstCreateAnswer, pusher, record, writes

SYSTEM = "salesforce:default"


def with_accounts(*extra: OutboundStep) -> tuple[OutboundStep, ...]:
    return (*default_steps(), OutboundStep("Account", ACCOUNT_OUTBOUND), *extra)


async def add_company(world: World, **values: Any) -> str:
    result = await world.store.upsert_companies([CompanyInput(values)], origin="ui")
    (company_id,) = result.ids
    assert company_id is not None
    return company_id


async def account_of(world: World, company_id: str) -> str:
    links = (await world.store.links_of("company", [company_id]))[company_id]
    (found,) = [x.external_id for x in links if x.system == SYSTEM and x.object == "Account"]
    return found


async def accounts_named(world: World, name: str) -> list[str]:
    body = await world.org.query(f"SELECT Id FROM Account WHERE Name = '{name}'")
    return [r["Id"] for r in body["records"]]


async def test_a_company_becomes_an_account_and_edits_reach_it_without_ping_pong(
    world: World,
) -> None:
    company = await add_company(
        world, name="Hollerith Ltd", website_domain="hollerith.example", employees=12
    )
    report = await pusher(world, with_accounts()).run_once()
    assert (report.created, report.errors) == (1, [])
    assert report.steps["Company to Account"].created == 1
    account = await record(world.org, "Account", await account_of(world, company))
    assert (account["Name"], account["Website"], account["NumberOfEmployees"]) == (
        "Hollerith Ltd",
        "hollerith.example",
        12,
    )
    await world.store.upsert_companies(
        [CompanyInput({"industry": "Tabulating", "revenue": "2500000"}, id=company)], origin="ui"
    )
    report = await pusher(world, with_accounts()).run_once()
    assert (report.created, report.updated) == (0, 1)
    account = await record(world.org, "Account", account["Id"])
    assert (account["Industry"], account["AnnualRevenue"]) == ("Tabulating", 2500000)

    # The inbound Account step reads back what the push wrote: none of it comes back as a
    # company change, and the next push writes nothing.
    seq = await world.store.last_change_seq()
    inbound = CompanyRunner(world.leads.client, world.store, account_step(), SystemClock())
    await inbound.run_once()
    # Only what Salesforce added itself (the Account's owner, not pushed) comes in.
    brought = [c for c in await world.store.changes_since(seq) if c.entity_type == "company"]
    assert [set(c.changes) for c in brought] == [{"owner"}]
    before = await writes(world.org)
    report = await pusher(world, with_accounts()).run_once()
    assert (report.created, report.updated) == (0, 0)
    assert await writes(world.org) == before


async def test_an_existing_account_is_linked_by_website_or_name_not_duplicated(
    world: World,
) -> None:
    by_site = await world.org.create(
        "Account", Name="Jacquard SA", Website="https://www.jacquard.example/"
    )
    by_name = await world.org.create("Account", Name="Pascal Works")
    elsewhere = await world.org.create("Account", Name="Leibniz GmbH")
    owner = await add_company(world, name="Leibniz")
    await world.store.save_links(
        [ExternalLink("company", owner, SYSTEM, "Account", elsewhere, {"Name": "Leibniz GmbH"})]
    )
    namesake = await add_company(world, name="Leibniz GmbH")
    site_company = await add_company(world, name="Jacquard", website_domain="jacquard.example")
    name_company = await add_company(world, name="pascal works", country="France")
    report = await pusher(world, with_accounts()).run_once()
    # The namesake does not take an Account linked to another company: it gets its own.
    assert (report.created, report.linked) == (1, 2)
    assert await account_of(world, site_company) == by_site
    assert await account_of(world, name_company) == by_name
    # Linked, then People's values are written onto the Account found.
    assert (await record(world.org, "Account", by_name))["BillingCountry"] == "France"
    assert await account_of(world, owner) == elsewhere
    assert await account_of(world, namesake) != elsewhere
    assert (await record(world.org, "Account", elsewhere))["Name"] == "Leibniz"


async def test_a_lost_account_create_answer_does_not_duplicate_the_account(world: World) -> None:
    companies = [await add_company(world, name=f"Lost Answer {i}") for i in range(3)]
    transport = LoseFirstCreateAnswer(httpx.ASGITransport(app=world.org.app))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        push = OutboundRunner(
            client_for(world.org, http), world.store, with_accounts(), SystemClock()
        )
        with pytest.raises(SalesforceUnavailableError):
            await push.run_once()
        report = await push.run_once()
    assert (report.created, report.linked) == (0, 3)
    for i, company in enumerate(companies):
        assert await accounts_named(world, f"Lost Answer {i}") == [await account_of(world, company)]


async def test_a_contact_takes_its_account_id_from_its_companys_link(world: World) -> None:
    contact = await world.org.create("Contact", LastName="Babbage", Email="cb@engine.example")
    await world.contacts.run_once()
    person = (await world.store.find_by_emails(["cb@engine.example"]))["cb@engine.example"]
    company = await add_company(world, name="Difference Engines")
    await world.store.upsert_persons(
        [PersonInput(values={"company_id": company}, id=person)], origin="ui"
    )
    contact_step = OutboundStep(
        "Contact",
        (*default_steps()[1].lines, FieldMapping("AccountId", "company_id", Direction.OUTBOUND)),
        create=False,
    )
    steps = (default_steps()[0], contact_step, OutboundStep("Account", ACCOUNT_OUTBOUND))
    report = await pusher(world, steps).run_once()
    assert report.errors == []
    account = await account_of(world, company)
    assert (await record(world.org, "Contact", contact))["AccountId"] == account


def test_the_account_step_is_available_not_default() -> None:
    profile = default_profile()
    assert "Account" not in {s.sobject for s in profile.outbound_steps()}
    added = added_step(profile, sobject="Account", direction=Direction.OUTBOUND)
    assert (added.name, added.target.value, added.lines) == (
        "Company to Account",
        "company",
        ACCOUNT_OUTBOUND,
    )
    with_step = profile.add(outbound_step("Account"))
    assert with_step.problems() == []
    (account,) = [s for s in with_step.outbound_steps() if s.sobject == "Account"]
    assert (account.label, account.create) == ("Company to Account", True)


async def test_company_deletes_follow_the_switch_and_spare_accounts_with_contacts(
    world: World,
) -> None:
    names = ("Off Switch", "Bare", "Held", "Emptied")
    companies = {name: await add_company(world, name=name) for name in names}
    assert (await pusher(world, with_accounts()).run_once()).created == 4
    accounts = {name: await account_of(world, companies[name]) for name in names}

    # Delete switch off (the default): the Account stays, the link is forgotten.
    await world.store.delete_companies([companies["Off Switch"]], origin="ui")
    report = await pusher(world, with_accounts()).run_once()
    assert (report.deleted, report.forgotten, report.errors) == (0, 1, [])
    assert (await record(world.org, "Account", accounts["Off Switch"]))["Name"] == "Off Switch"

    # Contacts on two Accounts, both persons in People; one person is deleted with its company.
    held = await world.org.create(
        "Contact", LastName="Held", Email="held@example.com", AccountId=accounts["Held"]
    )
    leaving = await world.org.create(
        "Contact", LastName="Leaving", Email="leaving@example.com", AccountId=accounts["Emptied"]
    )
    await world.contacts.run_once()
    found = await world.store.find_by_emails(["held@example.com", "leaving@example.com"])
    assert len(found) == 2

    deleting = pusher(world, tuple(dataclasses.replace(s, delete=True) for s in with_accounts()))
    await world.store.delete_persons([found["leaving@example.com"]], origin="ui")
    gone = await world.store.delete_companies(
        [companies[n] for n in ("Bare", "Held", "Emptied")], origin="ui"
    )
    assert len(gone) == 3
    report = await deleting.run_once()
    assert report.errors == []
    # The person's Contact goes first, so "Emptied" holds no Contact any more and is deleted;
    # "Held" still holds a person's Contact and is kept (Salesforce would delete it with it).
    api = "/services/data/v59.0/sobjects"
    for sobject, record_id, status in (
        ("Contact", leaving, 404),
        ("Account", accounts["Bare"], 404),
        ("Account", accounts["Emptied"], 404),
        ("Account", accounts["Held"], 200),
        ("Contact", held, 200),
    ):
        response = await world.org.client.get(f"{api}/{sobject}/{record_id}")
        assert response.status_code == status, (sobject, record_id)
    assert (report.deleted, report.forgotten) == (3, 1)
    assert report.steps["Company to Account"].deleted == 2
    assert report.steps["Person to Contact"].deleted == 1
    assert (await world.store.links_of("company", list(companies.values()))) == {}
    # A repeat finds nothing left to do.
    again = await deleting.run_once()
    assert (again.deleted, again.errors) == (0, [])
