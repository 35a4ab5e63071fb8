"""The SOQL that extractors and admins send, through unchanged clients: simple-salesforce
(REST query and Bulk API 2.0) and salesforce-bulk (Bulk API 1.0)."""

from __future__ import annotations

import asyncio
from typing import Any

from salesforce_bulk import SalesforceBulk
from salesforce_bulk.salesforce_bulk import BulkBatchFailed
from salesforce_bulk.util import IteratorBytesIO
from simple_salesforce.exceptions import SalesforceMalformedRequest

from .test_simple_salesforce import client


def rest_flow(info: dict[str, Any]) -> dict[str, Any]:
    sf = client(info)
    acme = sf.Account.create({"Name": "Acme", "Industry": "Retail", "BillingCity": "Springfield"})
    sf.Account.create({"Name": "Globex", "Industry": "Retail"})
    sf.Account.create({"Name": "Initech", "Industry": "Energy"})
    sf.Contact.create(
        {"LastName": "Zed", "AccountId": acme["id"], "MailingCity": "Paris", "Email": "z@a.com"}
    )
    sf.Contact.create({"LastName": "Young", "AccountId": acme["id"]})
    sf.Task.create({"Subject": "Call", "WhatId": acme["id"]})
    return {
        "compound": sf.query("SELECT Id, LastName, MailingAddress, OtherAddress FROM Contact"),
        "sub": sf.query(
            "SELECT Name, (SELECT LastName, Email FROM Contacts ORDER BY LastName) "
            "FROM Account ORDER BY Name"
        ),
        "groups": sf.query(
            "SELECT Industry, COUNT(Id) n, MAX(Name) FROM Account GROUP BY Industry "
            "HAVING COUNT(Id) > 1"
        ),
        "standard": sf.query_all(f"SELECT FIELDS(STANDARD) FROM Account WHERE Id = '{acme['id']}'"),
        "polymorphic": sf.query("SELECT What.Type, What.Name FROM Task"),
    }


async def test_rest_query_shapes_with_simple_salesforce(served_org: dict[str, Any]) -> None:
    seen = await asyncio.to_thread(rest_flow, served_org)
    by_name = {r["LastName"]: r for r in seen["compound"]["records"]}
    assert by_name["Zed"]["MailingAddress"]["city"] == "Paris"
    assert by_name["Zed"]["OtherAddress"] is None
    assert by_name["Young"]["MailingAddress"] is None
    acme, globex, initech = seen["sub"]["records"]
    assert [c["LastName"] for c in acme["Contacts"]["records"]] == ["Young", "Zed"]
    assert acme["Contacts"]["totalSize"] == 2
    assert globex["Contacts"] is None and initech["Contacts"] is None
    assert seen["groups"]["records"] == [
        {"attributes": {"type": "AggregateResult"}, "Industry": "Retail", "n": 2, "expr0": "Globex"}
    ]
    (standard,) = seen["standard"]["records"]
    assert standard["Name"] == "Acme"
    assert standard["BillingAddress"]["city"] == "Springfield"
    (task,) = seen["polymorphic"]["records"]
    assert (task["What"]["Type"], task["What"]["Name"]) == ("Account", "Acme")
    assert task["What"]["attributes"]["type"] == "Name"


def bulk_flows(info: dict[str, Any]) -> dict[str, Any]:
    sf = client(info)
    acme = sf.Account.create({"Name": "Acme"})
    sf.Contact.create({"LastName": "Zed", "MailingCity": "Paris", "AccountId": acme["id"]})
    seen: dict[str, Any] = {}
    try:
        list(sf.bulk2.Contact.query("SELECT Id, MailingAddress FROM Contact"))
    except SalesforceMalformedRequest as error:
        seen["bulk2"] = error.content
    seen["bulk2_standard"] = list(sf.bulk2.Contact.query("SELECT FIELDS(STANDARD) FROM Contact"))
    bulk = SalesforceBulk(sessionId=info["token"], host=info["instance_url"])
    seen["bulk1"] = bulk1_batch(bulk, "CSV", "SELECT Id, MailingAddress FROM Contact")
    seen["bulk1_csv_sub"] = bulk1_batch(
        bulk, "CSV", "SELECT Id, (SELECT Id FROM Contacts) FROM Account"
    )
    return seen


def bulk1_batch(bulk: SalesforceBulk, content_type: str, soql: str) -> Any:
    """A Bulk API 1.0 query batch's failure message, or its records."""
    sobject = soql.rsplit(" ", 1)[-1]
    job = bulk.create_query_job(sobject, contentType=content_type)
    batch = bulk.query(job, soql)
    try:
        while not bulk.is_batch_done(batch, job):
            pass
    except BulkBatchFailed as error:
        return error.state_message
    finally:
        bulk.close_job(job)
    (result,) = bulk.get_all_results_for_query_batch(batch, job)
    return IteratorBytesIO(result).read().decode()


async def test_bulk_queries_refuse_compound_fields_and_csv_sub_queries(
    served_org: dict[str, Any],
) -> None:
    seen = await asyncio.to_thread(bulk_flows, served_org)
    assert seen["bulk2"][0]["errorCode"] == "FUNCTIONALITY_NOT_ENABLED"
    assert seen["bulk2"][0]["message"] == "Selecting compound data not supported in Bulk Query"
    header = seen["bulk2_standard"][0].splitlines()[0]
    assert "MailingCity" in header and "MailingAddress" not in header
    assert seen["bulk1"] == (
        "InvalidBatch : Failed to process query: FUNCTIONALITY_NOT_ENABLED: "
        "Selecting compound data not supported in Bulk Query"
    )
    assert seen["bulk1_csv_sub"] == (
        "FeatureNotEnabled : Aggregate Relationships not supported in Bulk Query with CSV "
        "content type"
    )
