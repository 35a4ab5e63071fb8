"""Bulk API 2.0 ingest jobs of the sandbox org: queued, processed, aborted."""

from __future__ import annotations

import asyncio

import pytest

from .conftest import API, Org


async def _job(org: Org, rows: int) -> str:
    created = await org.client.post(
        f"{API}/jobs/ingest",
        json={"object": "Lead", "operation": "insert", "contentType": "CSV", "lineEnding": "LF"},
    )
    job_id = str(created.json()["id"])
    body = "LastName,Company\n" + "".join(f"Lead {i},Acme\n" for i in range(rows))
    upload = await org.client.put(
        f"{API}/jobs/ingest/{job_id}/batches",
        content=body.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert upload.status_code == 201
    return job_id


async def _state(org: Org, job_id: str) -> dict[str, object]:
    for _ in range(500):
        info: dict[str, object] = (await org.client.get(f"{API}/jobs/ingest/{job_id}")).json()
        if info["state"] in ("JobComplete", "Failed", "Aborted"):
            return info
        await asyncio.sleep(0.01)
    raise AssertionError(f"job {job_id} did not end")


async def test_a_closed_job_is_answered_first_then_processed(org: Org) -> None:
    job_id = await _job(org, 3)
    closed = await org.client.patch(f"{API}/jobs/ingest/{job_id}", json={"state": "UploadComplete"})
    assert closed.json()["state"] == "UploadComplete"  # queued: nothing processed yet
    info = await _state(org, job_id)
    assert (info["state"], info["numberRecordsProcessed"]) == ("JobComplete", 3)
    assert (await org.query("SELECT COUNT() FROM Lead"))["totalSize"] == 3


@pytest.mark.parametrize("rows", [3, 0])
async def test_a_job_aborted_while_queued_writes_nothing(org: Org, rows: int) -> None:
    org.config.knobs.bulk_latency_seconds = 0.5  # queued long enough to be aborted there
    job_id = await _job(org, rows)
    await org.client.patch(f"{API}/jobs/ingest/{job_id}", json={"state": "UploadComplete"})
    aborted = await org.client.patch(f"{API}/jobs/ingest/{job_id}", json={"state": "Aborted"})
    assert aborted.json()["state"] == "Aborted"
    await _state(org, job_id)
    await asyncio.sleep(0.7)  # past the queue: the job must not start after all
    info = (await org.client.get(f"{API}/jobs/ingest/{job_id}")).json()
    assert (info["state"], info["numberRecordsProcessed"]) == ("Aborted", 0)
    unprocessed = await org.client.get(f"{API}/jobs/ingest/{job_id}/unprocessedrecords")
    assert unprocessed.text.strip().splitlines()[1:] == [f"Lead {i},Acme" for i in range(rows)]
    assert (await org.query("SELECT COUNT() FROM Lead"))["totalSize"] == 0
