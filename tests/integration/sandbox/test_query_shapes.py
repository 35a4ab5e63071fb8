"""SOQL result shapes over REST: compound fields, child sub-queries, aggregates, FIELDS(),
polymorphic lookups; and the Bulk API's refusals of what it cannot query."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ElementTree
from typing import Any

import pytest

from .conftest import API, Org


async def seed(org: Org) -> dict[str, str]:
    acme = await org.create(
        "Account",
        Name="Acme",
        Industry="Retail",
        NumberOfEmployees=50,
        BillingStreet="1 Main St",
        BillingCity="Springfield",
        BillingPostalCode="12345",
        BillingLatitude=37.5,
    )
    globex = await org.create("Account", Name="Globex", Industry="Retail", NumberOfEmployees=7)
    initech = await org.create("Account", Name="Initech", Industry="Energy")
    ann = await org.create(
        "Contact",
        LastName="Zed",
        Email="ann@acme.com",
        AccountId=acme,
        MailingCity="Paris",
        MailingCountry="France",
    )
    bob = await org.create("Contact", LastName="Young", AccountId=acme)
    cy = await org.create("Contact", LastName="Xu", Email="cy@globex.com", AccountId=globex)
    return {"acme": acme, "globex": globex, "initech": initech, "ann": ann, "bob": bob, "cy": cy}


async def refused(org: Org, soql: str) -> dict[str, Any]:
    response = await org.client.get(f"{API}/query/", params={"q": soql})
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()[0]
    return error


async def test_compound_address_fields_come_back_nested(org: Org) -> None:
    ids = await seed(org)
    body = await org.query(
        "SELECT Id, MailingAddress, OtherAddress, Account.BillingAddress FROM Contact "
        "WHERE LastName = 'Zed'"
    )
    (record,) = body["records"]
    assert record["MailingAddress"] == {
        "city": "Paris",
        "country": "France",
        "geocodeAccuracy": None,
        "latitude": None,
        "longitude": None,
        "postalCode": None,
        "state": None,
        "street": None,
    }
    assert record["OtherAddress"] is None  # every component null: the address is null
    billing = record["Account"]["BillingAddress"]
    assert (billing["street"], billing["postalCode"], billing["latitude"]) == (
        "1 Main St",
        "12345",
        37.5,
    )
    assert record["Account"]["attributes"]["url"].endswith(ids["acme"])
    lead = await org.create("Lead", LastName="L", Company="C", State="CA")
    leads = await org.query(f"SELECT Address FROM Lead WHERE Id = '{lead}'")
    assert leads["records"][0]["Address"]["state"] == "CA"


async def test_compound_fields_cannot_be_filtered(org: Org) -> None:
    error = await refused(org, "SELECT Id FROM Contact WHERE MailingAddress = null")
    assert error["errorCode"] == "INVALID_FIELD"
    assert "MailingAddress" in error["message"]
    assert "Distance" in error["message"]


async def test_child_sub_query(org: Org) -> None:
    ids = await seed(org)
    body = await org.query(
        "SELECT Name, (SELECT LastName, Email FROM contacts WHERE LastName != 'Young' "
        "ORDER BY LastName) FROM Account ORDER BY Name"
    )
    acme, globex, initech = body["records"]
    assert acme["Contacts"]["totalSize"] == 1
    assert acme["Contacts"]["done"] is True
    (zed,) = acme["Contacts"]["records"]
    assert zed["attributes"] == {
        "type": "Contact",
        "url": f"{API}/sobjects/Contact/{ids['ann']}",
    }
    assert (zed["LastName"], zed["Email"]) == ("Zed", "ann@acme.com")
    assert [r["LastName"] for r in globex["Contacts"]["records"]] == ["Xu"]
    assert initech["Contacts"] is None  # no child rows: null, not an empty list
    many = await org.query(
        "SELECT Id, (SELECT Id FROM Contacts ORDER BY LastName DESC LIMIT 1) FROM Account "
        f"WHERE Id = '{ids['acme']}'"
    )
    assert [r["Id"] for r in many["records"][0]["Contacts"]["records"]] == [ids["ann"]]


async def test_child_sub_query_errors(org: Org) -> None:
    error = await refused(org, "SELECT Id, (SELECT Id FROM Contactz) FROM Account")
    assert error["errorCode"] == "INVALID_TYPE"
    assert (
        "Didn't understand relationship 'Contactz' in FROM part of query call" in (error["message"])
    )


async def test_aggregates_group_by_having_order(org: Org) -> None:
    await seed(org)
    body = await org.query(
        "SELECT Industry, COUNT(Id), SUM(NumberOfEmployees) total, MAX(Name), "
        "COUNT_DISTINCT(Name) FROM Account GROUP BY Industry HAVING COUNT(Id) > 0 "
        "ORDER BY COUNT(Id) DESC"
    )
    assert body["totalSize"] == 2
    retail, energy = body["records"]
    assert retail == {
        "attributes": {"type": "AggregateResult"},
        "Industry": "Retail",
        "expr0": 2,
        "total": 57,
        "expr1": "Globex",
        "expr2": 2,
    }
    assert (energy["Industry"], energy["expr0"], energy["total"]) == ("Energy", 1, None)
    having = await org.query(
        "SELECT Industry, AVG(NumberOfEmployees) FROM Account GROUP BY Industry "
        "HAVING COUNT(Id) > 1"
    )
    assert [(r["Industry"], r["expr0"]) for r in having["records"]] == [("Retail", 28.5)]
    total = await org.query("SELECT COUNT(Id) FROM Contact WHERE Email != null")
    assert total["totalSize"] == 1  # COUNT(Id) is a record, COUNT() is totalSize alone
    assert total["records"] == [{"attributes": {"type": "AggregateResult"}, "expr0": 2}]
    count = await org.query("SELECT COUNT() FROM Contact WHERE Email != null")
    assert (count["totalSize"], count["records"]) == (2, [])
    by_parent = await org.query(
        "SELECT Account.Name, COUNT(Id) n FROM Contact GROUP BY Account.Name ORDER BY Account.Name"
    )
    assert [(r["Name"], r["n"]) for r in by_parent["records"]] == [("Acme", 2), ("Globex", 1)]


@pytest.mark.parametrize(
    ("soql", "code", "words"),
    [
        ("SELECT Name, COUNT(Id) FROM Account GROUP BY Industry", "MALFORMED_QUERY", "grouped"),
        (
            "SELECT SUM(Name) FROM Account",
            "MALFORMED_QUERY",
            "does not support aggregate operator SUM",
        ),
        ("SELECT Id FROM Account WHERE COUNT(Id) > 1", "MALFORMED_QUERY", "HAVING"),
        ("SELECT Description, COUNT(Id) FROM Account GROUP BY Description", "INVALID_FIELD", ""),
    ],
)
async def test_aggregate_errors(org: Org, soql: str, code: str, words: str) -> None:
    error = await refused(org, soql)
    assert error["errorCode"] == code
    assert words in error["message"]


async def test_fields_standard_all_custom(org: Org) -> None:
    ids = await seed(org)
    body = await org.query(f"SELECT FIELDS(STANDARD) FROM Account WHERE Id = '{ids['acme']}'")
    (record,) = body["records"]
    assert record["Name"] == "Acme"
    assert record["BillingAddress"]["city"] == "Springfield"
    assert "SystemModstamp" in record and "OwnerId" in record
    error = await refused(org, "SELECT FIELDS(ALL) FROM Account")
    assert error == {
        "errorCode": "MALFORMED_QUERY",
        "message": "The SOQL FIELDS function must have a LIMIT of at most 200",
    }
    assert (await refused(org, "SELECT FIELDS(CUSTOM) FROM Account LIMIT 201"))[
        "errorCode"
    ] == "MALFORMED_QUERY"
    everything = await org.query("SELECT FIELDS(ALL) FROM Account ORDER BY Name LIMIT 200")
    assert everything["records"][0]["Industry"] == "Retail"


async def test_polymorphic_lookups(org: Org) -> None:
    ids = await seed(org)
    opportunity = await org.create(
        "Opportunity", Name="Big deal", StageName="Prospecting", CloseDate="2026-12-01"
    )
    await org.create("Task", Subject="Call", WhatId=ids["acme"], WhoId=ids["ann"])
    await org.create("Task", Subject="Send Quote", WhatId=opportunity)
    await org.create("Task", Subject="Other")
    body = await org.query(
        "SELECT Subject, What.Type, What.Name, Who.Name FROM Task ORDER BY Subject"
    )
    call, other, quote = body["records"]
    assert call["What"] == {
        "attributes": {"type": "Name", "url": f"{API}/sobjects/Account/{ids['acme']}"},
        "Type": "Account",
        "Name": "Acme",
    }
    assert call["Who"]["Name"] == "Zed"
    assert (quote["What"]["Type"], quote["What"]["Name"]) == ("Opportunity", "Big deal")
    assert other["What"] is None
    filtered = await org.query("SELECT Subject FROM Task WHERE What.Type = 'Opportunity'")
    assert [r["Subject"] for r in filtered["records"]] == ["Send Quote"]
    error = await refused(org, "SELECT What.Industry FROM Task")
    assert error["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Industry' on entity 'Name'" in error["message"]
    typed = await org.query(
        "SELECT Subject, TYPEOF What WHEN Account THEN Industry, Name "
        "WHEN Opportunity THEN StageName ELSE Name END FROM Task ORDER BY Subject"
    )
    call, other, quote = typed["records"]
    assert call["What"] == {
        "attributes": {"type": "Account", "url": f"{API}/sobjects/Account/{ids['acme']}"},
        "Industry": "Retail",
        "Name": "Acme",
    }
    assert quote["What"]["StageName"] == "Prospecting"
    assert "Name" not in quote["What"]
    assert other["What"] is None
    lead = await org.create("Lead", LastName="L", Company="C")
    owned = await org.query(f"SELECT Owner.Type, Owner.Name FROM Lead WHERE Id = '{lead}'")
    owner = owned["records"][0]["Owner"]
    assert (owner["attributes"]["type"], owner["Type"]) == ("Name", "User")
    assert owner["attributes"]["url"].endswith(org.config.user_id)
    addressed = await org.query(
        "SELECT TYPEOF What WHEN Account THEN BillingAddress END FROM Task "
        "WHERE What.Type = 'Account'"
    )
    assert addressed["records"][0]["What"]["BillingAddress"]["city"] == "Springfield"


async def test_bulk_queries_refuse_compound_fields_and_sub_queries(org: Org) -> None:
    for soql, code, message in [
        (
            "SELECT Id, MailingAddress FROM Contact",
            "FUNCTIONALITY_NOT_ENABLED",
            "Selecting compound data not supported in Bulk Query",
        ),
        (
            "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
            "FeatureNotEnabled",
            "Aggregate Relationships not supported in Bulk V2 Query with CSV content type.",
        ),
    ]:
        response = await org.client.post(
            f"{API}/jobs/query", json={"operation": "query", "query": soql}
        )
        assert response.status_code == 400, response.text
        assert response.json() == [{"errorCode": code, "message": message}]
    standard = await org.client.post(
        f"{API}/jobs/query",
        json={"operation": "query", "query": "SELECT FIELDS(STANDARD) FROM Contact"},
    )
    assert standard.status_code == 200, standard.text


def _batch_info(response: Any) -> dict[str, Any]:
    """A batchInfo: JSON for JSON jobs, XML for CSV jobs (the job's content type)."""
    if response.headers["content-type"].startswith("application/json"):
        body: dict[str, Any] = response.json()
        return body
    root = ElementTree.fromstring(response.content)  # noqa: S314 - the test's own org
    return {child.tag.rpartition("}")[2]: child.text for child in root}


async def bulk1_query(org: Org, content_type: str, sobject: str, soql: str) -> Any:
    """A Bulk API 1.0 query batch (JSON API): its state message when it failed, else the
    parsed JSON records."""
    base = "/services/async/59.0/job"
    created = await org.client.post(
        base, json={"operation": "query", "object": sobject, "contentType": content_type}
    )
    job = created.json()["id"]
    added = await org.client.post(
        f"{base}/{job}/batch", content=soql, headers={"Content-Type": "application/json"}
    )
    batch = _batch_info(added)
    while batch["state"] in ("Queued", "InProgress"):  # batches are queued, as in an org
        await asyncio.sleep(0.01)
        batch = _batch_info(await org.client.get(f"{base}/{job}/batch/{batch['id']}"))
    if batch["state"] == "Failed":
        return batch["stateMessage"]
    (result,) = (await org.client.get(f"{base}/{job}/batch/{batch['id']}/result")).json()
    return (await org.client.get(f"{base}/{job}/batch/{batch['id']}/result/{result}")).json()


async def test_bulk1_sub_queries_in_json_only_and_never_compound_fields(org: Org) -> None:
    await seed(org)
    records = await bulk1_query(
        org, "JSON", "Account", "SELECT Name, (SELECT LastName FROM Contacts) FROM Account"
    )
    by_name = {r["Name"]: r for r in records}
    assert [c["LastName"] for c in by_name["Globex"]["Contacts"]["records"]] == ["Xu"]
    assert by_name["Initech"]["Contacts"] is None
    refused_csv = await bulk1_query(
        org, "CSV", "Account", "SELECT Name, (SELECT LastName FROM Contacts) FROM Account"
    )
    assert refused_csv == (
        "FeatureNotEnabled : Aggregate Relationships not supported in Bulk Query with CSV "
        "content type"
    )
    compound = await bulk1_query(org, "JSON", "Account", "SELECT BillingAddress FROM Account")
    assert compound == (
        "InvalidBatch : Failed to process query: FUNCTIONALITY_NOT_ENABLED: "
        "Selecting compound data not supported in Bulk Query"
    )


async def test_record_retrieve_returns_compound_address(org: Org) -> None:
    ids = await seed(org)
    record = (await org.client.get(f"{API}/sobjects/Contact/{ids['ann']}")).json()
    assert record["MailingAddress"]["city"] == "Paris"
    assert record["OtherAddress"] is None
    only = await org.client.get(
        f"{API}/sobjects/Account/{ids['acme']}", params={"fields": "Name,BillingAddress"}
    )
    assert only.json()["BillingAddress"]["postalCode"] == "12345"
    assert "ShippingAddress" not in only.json()


async def test_campaign_child_relationships(org: Org) -> None:
    ids = await seed(org)
    campaign = await org.create("Campaign", Name="Spring")
    await org.create("CampaignMember", CampaignId=campaign, ContactId=ids["ann"])
    await org.create("Task", Subject="Call", WhatId=campaign)
    body = await org.query(
        "SELECT Name, (SELECT Contact.LastName FROM CampaignMembers), "
        "(SELECT Subject FROM Tasks), (SELECT Id FROM Opportunities) FROM Campaign"
    )
    (record,) = body["records"]
    (member,) = record["CampaignMembers"]["records"]
    assert member["Contact"]["LastName"] == "Zed"
    assert [t["Subject"] for t in record["Tasks"]["records"]] == ["Call"]
    assert record["Opportunities"] is None
    described = (await org.client.get(f"{API}/sobjects/Campaign/describe")).json()
    assert {"CampaignMembers", "Opportunities", "Tasks"} <= {
        c["relationshipName"] for c in described["childRelationships"]
    }
