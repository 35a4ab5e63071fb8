"""salesforce-bulk (Bulk API 1.0), unchanged, against the sandbox org."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

from salesforce_bulk import SalesforceBulk
from salesforce_bulk.util import IteratorBytesIO


def bulk_flow(info: dict[str, Any]) -> dict[str, Any]:
    bulk = SalesforceBulk(sessionId=info["token"], host=info["instance_url"])
    seen: dict[str, Any] = {}
    job = bulk.create_insert_job("Contact", contentType="CSV")
    rows = (
        "LastName,Email\n"
        + "".join(f"Bulk1 {i},b1_{i}@example.com\n" for i in range(50))
        + ",no-last-name@example.com\n"
    )
    batch = bulk.post_batch(job, rows)
    bulk.wait_for_batch(job, batch, timeout=30)
    bulk.close_job(job)
    seen["insert"] = list(bulk.get_batch_results(batch, job))
    query_job = bulk.create_query_job("Contact", contentType="CSV")
    query_batch = bulk.query(
        query_job,
        "SELECT Id, LastName, Email FROM Contact WHERE Email LIKE 'b1\\_%' ORDER BY Email",
    )
    while not bulk.is_batch_done(query_batch, query_job):
        pass
    bulk.close_job(query_job)
    text = ""
    for result in bulk.get_all_results_for_query_batch(query_batch, query_job):
        text += IteratorBytesIO(result).read().decode("utf-8")
    seen["query"] = list(csv.DictReader(io.StringIO(text)))
    seen["status"] = bulk.job_status(job)
    return seen


async def test_bulk1_insert_and_query(served_org: dict[str, Any]) -> None:
    seen = await asyncio.to_thread(bulk_flow, served_org)
    results = seen["insert"]
    assert len(results) == 51
    assert sum(1 for r in results if r.success == "true") == 50
    failed = [r for r in results if r.success != "true"]
    assert failed[0].error.startswith("REQUIRED_FIELD_MISSING")
    assert len(seen["query"]) == 50
    assert seen["query"][0]["Email"] == "b1_0@example.com"
    assert seen["status"]["numberRecordsProcessed"] == "51"
    assert seen["status"]["state"] == "Closed"
