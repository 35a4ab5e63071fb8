"""Outbound pushes large enough for Bulk API 2.0 ingest: calls bounded, errors per record."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from peoplesync.clock import SystemClock
from peoplesync.people.model import PersonInput
from peoplesync.salesforce.bulk_ingest import BulkIngest
from peoplesync.sync.outbound.runner import OutboundRunner, default_steps
from tests.integration.org_client import client_for
from tests.integration.sandbox.conftest import API, BASE

from .conftest import World

COUNT = 1_500  # above the insert break-even (1,200): one ingest job


def _counting(world: World) -> tuple[httpx.AsyncClient, Counter[str]]:
    seen: Counter[str] = Counter()

    async def hook(request: httpx.Request) -> None:
        path = request.url.path
        if "/jobs/ingest/" in path and request.method == "GET" and path.count("/") == 6:
            seen["poll"] += 1
        else:
            seen["call"] += 1

    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=world.org.app),
        base_url=BASE,
        event_hooks={"request": [hook]},
    )
    return http, seen


async def test_many_new_persons_become_leads_in_one_job_with_bounded_calls(world: World) -> None:
    inputs = [
        PersonInput(
            values={"last_name": f"Bulk {i}", "company": "Bulk Co"},
            emails=[f"bulk{i}@out.example"],
        )
        for i in range(COUNT)
    ]
    inputs[7] = PersonInput(
        values={"last_name": "Bad", "company": "Bulk Co", "title": "x" * 200},
        emails=["bad@out.example"],
    )
    await world.store.upsert_persons(inputs, origin="ui")
    http, seen = _counting(world)
    async with http:
        client = client_for(world.org, http)
        runner = OutboundRunner(client, world.store, default_steps(), SystemClock())
        report = await runner.run_once()
        # login, 1 composite lookup (Contact + Lead), describe (external id?), job create,
        # upload, close, successfulResults, failedResults; polls apart
        assert seen["call"] <= 9, seen
        assert report.created == COUNT - 1
        (error,) = report.errors
        assert error.code == "STRING_TOO_LONG" and error.field == "Title"
        assert error.hint
        leads = (
            await world.org.client.get(
                f"{API}/query", params={"q": "SELECT COUNT() FROM Lead WHERE Company = 'Bulk Co'"}
            )
        ).json()["totalSize"]
        assert leads == COUNT - 1
        # Run again: nothing new is created, nothing is duplicated.
        again = await runner.run_once(retry_failed=True)
        assert again.created == 0


async def test_bulk_results_map_back_in_order_for_update_and_delete(world: World) -> None:
    ids = [await world.org.create("Lead", LastName=f"L{i}", Company="C") for i in range(5)]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=world.org.app), base_url=BASE
    ) as http:
        bulk = BulkIngest(client_for(world.org, http), first_poll_seconds=0.01)
        records = [{"Id": i, "Title": f"T{n}"} for n, i in enumerate(ids)]
        records[2] = {"Id": ids[2], "Email": "not an email"}
        result = await bulk.run("Lead", "update", list(reversed(records)))
        outcomes = [bool(r and r["success"]) for r in result.results]
        assert outcomes == [True, True, False, True, True]
        failed = result.results[2]
        assert failed is not None
        assert failed["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
        deleted = await bulk.run("Lead", "delete", [{"Id": i} for i in ids])
        assert all(r and r["success"] for r in deleted.results)


async def test_upsert_on_an_external_id_creates_once(world: World) -> None:
    response = await world.org.client.post(
        "/sandbox/admin/custom-fields",
        json={
            "sobject": "Lead",
            "name": "PeopleSync_Id__c",
            "kind": "string",
            "length": 40,
            "external_id": True,
            "unique": True,
        },
    )
    assert response.status_code == 201, response.text
    await world.store.upsert_persons(
        [
            PersonInput(
                values={"last_name": f"Ext {i}", "company": "Ext"}, emails=[f"ext{i}@out.example"]
            )
            for i in range(3)
        ],
        origin="ui",
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=world.org.app), base_url=BASE
    ) as http:
        client = client_for(world.org, http)
        runner = OutboundRunner(client, world.store, default_steps(), SystemClock())
        report = await runner.run_once()
        assert report.created == 3
    rows = (
        await world.org.client.get(
            f"{API}/query", params={"q": "SELECT PeopleSync_Id__c FROM Lead WHERE Company = 'Ext'"}
        )
    ).json()["records"]
    assert len({r["PeopleSync_Id__c"] for r in rows}) == 3


@pytest.mark.parametrize("fate", ["Failed", "Aborted"])
async def test_a_job_the_org_ends_leaves_every_record_unprocessed_with_the_reason(
    world: World, fate: str
) -> None:
    knobs = world.org.config.knobs
    knobs.rate_bulk_failed, knobs.rate_bulk_aborted = (1.0, 0.0) if fate == "Failed" else (0.0, 1.0)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=world.org.app), base_url=BASE
    ) as http:
        bulk = BulkIngest(client_for(world.org, http), first_poll_seconds=0.01)
        records = [{"LastName": f"Fated {i}", "Company": "Fate Co"} for i in range(4)]
        result = await bulk.run("Lead", "insert", records)
    assert result.state == fate
    for outcome in result.results:
        assert outcome is not None and outcome["unprocessed"] and not outcome["success"]
        message = outcome["errors"][0]["message"]
        assert message.startswith(f"the job ended {fate} before this record (")
        assert f"rate_bulk_{fate.lower()}" in message  # the org's errorMessage, with the cause
    count = await world.org.query("SELECT COUNT() FROM Lead WHERE Company = 'Fate Co'")
    assert count["totalSize"] == 0
