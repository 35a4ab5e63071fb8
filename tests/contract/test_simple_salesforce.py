"""simple-salesforce, unchanged, against the sandbox org over HTTPS."""

from __future__ import annotations

import asyncio
from typing import Any

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound


def client(info: dict[str, Any]) -> Salesforce:
    session = requests.Session()
    session.verify = info["ca_cert"]
    return Salesforce(
        instance_url=info["instance_url"], session_id=info["token"], session=session, version="59.0"
    )


def exercise(info: dict[str, Any]) -> dict[str, Any]:
    sf = client(info)
    seen: dict[str, Any] = {}
    created = sf.Contact.create(
        {"FirstName": "Grace", "LastName": "Hopper", "Email": "grace@navy.mil"}
    )
    seen["created"] = created
    seen["get"] = sf.Contact.get(created["id"])
    seen["update"] = sf.Contact.update(created["id"], {"Title": "Rear Admiral"})
    seen["describe"] = sf.Contact.describe()
    seen["global"] = sf.describe()
    records = [
        {"attributes": {"type": "Lead"}, "LastName": f"Bulk{i}", "Company": "C"} for i in range(200)
    ]
    for _ in range(12):
        sf.restful(
            "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
        )
    seen["query"] = sf.query("SELECT Id, Name, Title FROM Contact WHERE Email = 'GRACE@navy.mil'")
    seen["query_all"] = sf.query_all("SELECT Id FROM Lead")
    seen["count"] = sf.query("SELECT COUNT() FROM Lead")
    try:
        sf.query("SELECT Nope FROM Contact")
    except SalesforceMalformedRequest as error:
        seen["bad_query"] = error.content
    seen["delete"] = sf.Contact.delete(created["id"])
    try:
        sf.Contact.get(created["id"])
    except SalesforceResourceNotFound as error:
        seen["gone"] = error.content
    seen["query_all_deleted"] = sf.query_all(
        f"SELECT Id, IsDeleted FROM Contact WHERE Id = '{created['id']}'", include_deleted=True
    )
    seen["limits"] = sf.limits()
    composite = sf.restful(
        "composite",
        method="POST",
        json={
            "compositeRequest": [
                {
                    "method": "POST",
                    "url": "/services/data/v59.0/sobjects/Account",
                    "referenceId": "a",
                    "body": {"Name": "SS Co"},
                }
            ]
        },
    )
    seen["composite"] = composite
    return seen


async def test_simple_salesforce_crud_query_describe_composite(served_org: dict[str, Any]) -> None:
    seen = await asyncio.to_thread(exercise, served_org)
    assert seen["created"]["success"] is True
    assert seen["get"]["Email"] == "grace@navy.mil"
    assert seen["update"] == 204
    assert seen["describe"]["name"] == "Contact"
    assert any(o["name"] == "Lead" for o in seen["global"]["sobjects"])
    assert seen["query"]["records"][0]["Title"] == "Rear Admiral"
    assert seen["query_all"]["totalSize"] == 2400
    assert len(seen["query_all"]["records"]) == 2400  # followed nextRecordsUrl past the first 2000
    assert seen["count"]["totalSize"] == 2400
    assert seen["bad_query"][0]["errorCode"] == "INVALID_FIELD"
    assert seen["delete"] == 204
    assert seen["gone"][0]["errorCode"] == "NOT_FOUND"
    assert seen["query_all_deleted"]["records"][0]["IsDeleted"] is True
    assert seen["limits"]["DailyApiRequests"]["Max"] == 100_000
    assert seen["composite"]["compositeResponse"][0]["httpStatusCode"] == 201


def upsert_flow(info: dict[str, Any]) -> tuple[Any, Any, Any]:
    sf = client(info)
    sf.restful(
        "../../../sandbox/admin/custom-fields",
        method="POST",
        json={
            "sobject": "Contact",
            "name": "Crm_Key__c",
            "kind": "string",
            "external_id": True,
            "unique": True,
        },
    )
    first = sf.Contact.upsert("Crm_Key__c/K-77", {"LastName": "Upserted"})
    second = sf.Contact.upsert("Crm_Key__c/K-77", {"LastName": "Again"})
    found = sf.Contact.get_by_custom_id("Crm_Key__c", "K-77")
    return first, second, found


async def test_simple_salesforce_upsert_by_external_id(served_org: dict[str, Any]) -> None:
    first, second, found = await asyncio.to_thread(upsert_flow, served_org)
    assert first == 201
    assert second == 200
    assert found["LastName"] == "Again"
