"""Open query cursors (REST locators, Bulk 2.0 results): snapshots of their own, bounded."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from peoplesync.sandbox.salesforce.query_cursor import MAX_OPEN, POOLED

from .conftest import API, Org

PAGED = {"Sforce-Query-Options": "batchSize=200"}


async def add_leads(org: Org, count: int, company: str = "Paged") -> None:
    for start in range(0, count, 200):
        records = [
            {"attributes": {"type": "Lead"}, "LastName": f"L{i:04d}", "Company": company}
            for i in range(start, min(start + 200, count))
        ]
        response = await org.client.post(
            f"{API}/composite/sobjects", json={"allOrNone": True, "records": records}
        )
        assert all(r["success"] for r in response.json()), response.text


async def follow(org: Org, url: str) -> dict[str, Any]:
    body: dict[str, Any] = (await org.client.get(url, headers=PAGED)).json()
    return body


async def test_abandoned_cursors_are_bounded_least_recently_used_first(org: Org) -> None:
    await add_leads(org, 201)
    threads = threading.active_count()
    kept = await org.query("SELECT Id FROM Lead", **PAGED)
    opened = [await org.query("SELECT Id FROM Lead", **PAGED) for _ in range(MAX_OPEN - 2)]
    kept_url = kept["nextRecordsUrl"]
    kept = await org.client.get(kept_url, headers=PAGED)  # used last: survives the eviction
    for _ in range(10):
        opened.append(await org.query("SELECT Id FROM Lead", **PAGED))
    assert all(not body["done"] for body in opened)
    # Each open cursor has a connection (and thread) of its own, and no more stay open.
    assert threading.active_count() - threads <= MAX_OPEN + POOLED
    oldest = await org.client.get(opened[0]["nextRecordsUrl"], headers=PAGED)
    assert oldest.status_code == 400
    assert oldest.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"
    assert kept.status_code == 200
    assert kept.json()["done"] is True and len(kept.json()["records"]) == 1
    newest = await follow(org, opened[-1]["nextRecordsUrl"])
    assert newest["done"] is True and len(newest["records"]) == 1


async def test_a_cursor_unused_for_15_minutes_expires(org: Org) -> None:
    await add_leads(org, 450)
    first = await org.query("SELECT Id FROM Lead", **PAGED)
    org.clock.advance(minutes=14)
    second = await follow(org, first["nextRecordsUrl"])
    assert len(second["records"]) == 200
    org.clock.advance(minutes=15, seconds=1)
    expired = await org.client.get(second["nextRecordsUrl"], headers=PAGED)
    assert expired.status_code == 400
    assert expired.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


async def test_expiry_gives_back_an_abandoned_cursors_snapshot_without_a_query(org: Org) -> None:
    await add_leads(org, 201)
    await org.query("SELECT Id FROM Lead", **PAGED)
    queries = org.app.state.org.ctx.queries
    (abandoned,) = queries.open.values()
    assert abandoned.connection is not None and abandoned.connection.in_transaction
    org.clock.advance(minutes=15, seconds=1)
    await queries.expire()  # what the org runs every few seconds
    assert queries.open == {}
    assert not abandoned.connection.in_transaction


async def test_a_page_asked_for_again_comes_again(org: Org) -> None:
    await add_leads(org, 600)
    first = await org.query("SELECT LastName FROM Lead ORDER BY LastName", **PAGED)
    url = first["nextRecordsUrl"]
    assert url.endswith("-200")
    second = await follow(org, url)
    again = await follow(org, url)  # a retry after a lost answer: the same page, not the next
    assert again["records"] == second["records"]
    assert again["records"][0]["LastName"] == "L0200"
    third = await follow(org, again["nextRecordsUrl"])
    assert [r["LastName"] for r in third["records"]] == [f"L{i:04d}" for i in range(400, 600)]
    assert third["done"] is True and "nextRecordsUrl" not in third
    ahead = await org.query("SELECT LastName FROM Lead ORDER BY LastName", **PAGED)
    skipped = await follow(org, ahead["nextRecordsUrl"].replace("-200", "-550"))
    assert [r["LastName"] for r in skipped["records"]] == [f"L{i:04d}" for i in range(550, 600)]
    assert skipped["done"] is True


async def test_many_cursors_read_concurrently_each_from_its_own_snapshot(org: Org) -> None:
    await add_leads(org, 600)

    async def read_all() -> tuple[int, list[str]]:
        body = await org.query(
            "SELECT LastName FROM Lead WHERE Company = 'Paged' ORDER BY LastName", **PAGED
        )
        total, names = body["totalSize"], [r["LastName"] for r in body["records"]]
        while not body["done"]:
            await add_leads(org, 1)  # a write between pages, sorted first
            body = await follow(org, body["nextRecordsUrl"])
            names += [r["LastName"] for r in body["records"]]
        return total, names

    expected = [f"L{i:04d}" for i in range(600)]
    for total, names in await asyncio.gather(read_all(), read_all(), read_all()):
        # Whatever was written while it was read, a cursor gives its snapshot, each row once.
        assert total >= 600
        assert names == ["L0000"] * (total - 600) + expected
    now = await org.query("SELECT COUNT() FROM Lead WHERE Company = 'Paged'")
    assert now["totalSize"] == 606


async def wait_for(org: Org, job_id: str) -> None:
    for _ in range(200):
        state = (await org.client.get(f"{API}/jobs/query/{job_id}")).json()["state"]
        if state == "JobComplete":
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"query job {job_id} did not complete")


async def test_bulk_query_results_do_not_freeze_other_queries(org: Org) -> None:
    await add_leads(org, 300)
    job = (
        await org.client.post(
            f"{API}/jobs/query", json={"operation": "query", "query": "SELECT Id FROM Lead"}
        )
    ).json()
    await wait_for(org, job["id"])
    results = f"{API}/jobs/query/{job['id']}/results"
    first = await org.client.get(results, params={"maxRecords": "100"})
    assert first.headers["Sforce-NumberOfRecords"] == "100"
    await org.create("Lead", LastName="Meanwhile", Company="Later")
    found = await org.query("SELECT Id FROM Lead WHERE LastName = 'Meanwhile'")
    assert found["totalSize"] == 1
    rest = await org.client.get(
        results, params={"maxRecords": "1000", "locator": first.headers["Sforce-Locator"]}
    )
    # The job's results are the records as they were when it completed.
    assert rest.headers["Sforce-NumberOfRecords"] == "200"
    assert rest.headers["Sforce-Locator"] == "null"
    again = await org.client.get(results, params={"maxRecords": "1000"})  # read anew
    assert again.headers["Sforce-NumberOfRecords"] == "301"
