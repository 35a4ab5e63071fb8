"""Accounts become companies; persons find their company by Account, else by email domain."""

from __future__ import annotations

from peoplesync.people.model import CompanyInput
from peoplesync.sync.inbound.company import CompanyRunner, account_step
from tests.integration.sandbox.conftest import API

from .conftest import World


def company_runner(world: World) -> CompanyRunner:
    return CompanyRunner(world.leads.client, world.store, account_step(), world.leads.clock)


async def company_of(world: World, email: str) -> str | None:
    person_id = (await world.store.find_by_emails([email]))[email]
    return (await world.store.get_persons([person_id]))[person_id].company_id


async def test_accounts_become_companies_and_persons_join_them(world: World) -> None:
    org = world.org
    known = await world.store.upsert_companies(
        [CompanyInput({"name": "Babbage & Co", "website_domain": "babbage.example"})],
        origin="test",
    )
    engines = await org.create(
        "Account",
        Name="Analytical Engines",
        Website="https://www.Engines.example/about",
        Industry="Technology",
        NumberOfEmployees=42,
        AnnualRevenue=1250000.5,
        BillingCountry="United Kingdom",
    )
    babbage = await org.create("Account", Name="Babbage and Company", Website="babbage.example")
    await org.create("Account", Name="No Website Ltd")
    await org.create(
        "Contact", LastName="Lovelace", Email="ada@elsewhere.example", AccountId=engines
    )
    await org.create("Lead", LastName="Menabrea", Company="Turin", Email="luigi@engines.example")
    await org.create("Lead", LastName="Free", Company="Home", Email="someone@gmail.com")

    accounts = company_runner(world)
    report = await accounts.run_once()
    assert (report.read, report.created, report.updated) == (3, 2, 1)  # babbage matched by domain
    links = await world.store.find_links("salesforce:default", "Account", [engines, babbage])
    assert links[babbage].entity_id == known.ids[0]
    company = (await world.store.get_companies([links[engines].entity_id]))[
        links[engines].entity_id
    ]
    assert (company.name, company.website_domain, company.employees) == (
        "Analytical Engines",
        "engines.example",
        42,
    )
    assert company.revenue == "1250000.5"
    assert company.country == "United Kingdom"
    assert company.owner  # Owner.Name, through the relationship

    await world.leads.run_once()
    await world.contacts.run_once()
    assert await company_of(world, "ada@elsewhere.example") == company.id  # by AccountId
    assert await company_of(world, "luigi@engines.example") == company.id  # by email domain
    assert await company_of(world, "someone@gmail.com") is None  # a mailbox says nothing

    again = await accounts.run_once()
    assert again.created == again.updated == 0
    await org.client.patch(f"{API}/sobjects/Account/{engines}", json={"Industry": "Machinery"})
    edited = await accounts.run_once()
    assert edited.updated == 1
    assert (await world.store.get_companies([company.id]))[company.id].industry == "Machinery"

    assert (await org.client.delete(f"{API}/sobjects/Account/{babbage}")).status_code == 204
    removed = await accounts.run_once()
    assert removed.unlinked == 1
    assert not await world.store.find_links("salesforce:default", "Account", [babbage])
    assert await world.store.get_companies([known.ids[0]])  # the company stays in People
