"""simple-salesforce's Bulk API 2.0 client, unchanged, against the sandbox org."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

import requests
from simple_salesforce import Salesforce


def bulk_flow(info: dict[str, Any]) -> dict[str, Any]:
    session = requests.Session()
    sf = Salesforce(
        instance_url=info["instance_url"], session_id=info["token"], session=session, version="59.0"
    )
    records = [{"LastName": f"Bulk{i:04d}", "Email": f"bulk{i}@example.com"} for i in range(1500)]
    records.append(
        {"LastName": "", "Email": "missing-last-name@example.com"}
    )  # fails: LastName required
    seen: dict[str, Any] = {"insert": sf.bulk2.Contact.insert(records=records, wait=1)}
    pages = list(
        sf.bulk2.Contact.query(
            "SELECT Id, LastName, Email FROM Contact ORDER BY LastName", max_records=600, wait=1
        )
    )
    seen["pages"] = pages
    job = seen["insert"][0]["job_id"]
    seen["failed"] = sf.bulk2.Contact.get_failed_records(job)
    seen["succeeded"] = sf.bulk2.Contact.get_successful_records(job)
    return seen


async def test_bulk2_insert_query_and_results(served_org: dict[str, Any]) -> None:
    seen = await asyncio.to_thread(bulk_flow, served_org)
    (insert,) = seen["insert"]
    assert insert["numberRecordsProcessed"] == 1501
    assert insert["numberRecordsFailed"] == 1
    rows = [row for page in seen["pages"] for row in csv.DictReader(io.StringIO(page))]
    assert len(seen["pages"]) == 3  # 600 + 600 + 300, followed through Sforce-Locator
    assert len(rows) == 1500
    assert rows[0]["LastName"] == "Bulk0000"
    assert {r["Email"] for r in rows} >= {"bulk7@example.com"}
    failed = list(csv.DictReader(io.StringIO(seen["failed"])))
    assert len(failed) == 1
    assert failed[0]["sf__Error"].startswith("REQUIRED_FIELD_MISSING")
    assert failed[0]["Email"] == "missing-last-name@example.com"
    succeeded = list(csv.DictReader(io.StringIO(seen["succeeded"])))
    assert len(succeeded) == 1500
    assert all(r["sf__Created"] == "true" and r["sf__Id"].startswith("003") for r in succeeded)
