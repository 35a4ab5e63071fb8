"""Bulk API 2.0 jobs take an org's time: polling clients see every state on the way."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import requests

API = "/services/data/v59.0"
ROWS = 3_000


def follow(info: dict[str, Any]) -> dict[str, list[str]]:
    """Run an ingest job and a query job, polling each; the states seen, in order."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {info['token']}"
    base = info["instance_url"]
    # The org's pace: half a second in the queue, then 2,000 rows a second.
    session.put(
        f"{base}/sandbox/admin/knobs",
        json={
            "bulk_latency_seconds": 0.5,
            "bulk_rows_per_second": 2_000,
            "bulk_query_rows_per_second": 2_000,
        },
    ).raise_for_status()

    def states(path: str) -> list[str]:
        seen = [str(session.get(path).json()["state"])]
        while seen[-1] not in ("JobComplete", "Failed", "Aborted"):
            time.sleep(0.02)
            state = str(session.get(path).json()["state"])
            if state != seen[-1]:
                seen.append(state)
        return seen

    job = session.post(
        f"{base}{API}/jobs/ingest", json={"object": "Contact", "operation": "insert"}
    ).json()["id"]
    rows = "LastName\n" + "".join(f"Paced {i}\n" for i in range(ROWS))
    session.put(
        f"{base}{API}/jobs/ingest/{job}/batches",
        data=rows.encode(),
        headers={"Content-Type": "text/csv"},
    ).raise_for_status()
    closed = session.patch(f"{base}{API}/jobs/ingest/{job}", json={"state": "UploadComplete"})
    ingest = [str(closed.json()["state"]), *states(f"{base}{API}/jobs/ingest/{job}")]
    query = session.post(
        f"{base}{API}/jobs/query", json={"operation": "query", "query": "SELECT Id FROM Contact"}
    ).json()
    seen = {
        "ingest": ingest,
        "query": [query["state"], *states(f"{base}{API}/jobs/query/{query['id']}")],
    }
    done = session.get(f"{base}{API}/jobs/query/{query['id']}/results")
    seen["count"] = [done.headers["Sforce-NumberOfRecords"]]
    return seen


def _distinct(states: list[str]) -> list[str]:
    return [s for n, s in enumerate(states) if n == 0 or states[n - 1] != s]


async def test_jobs_move_through_queued_and_in_progress_before_complete(
    served_org: dict[str, Any],
) -> None:
    seen = await asyncio.to_thread(follow, served_org)
    assert _distinct(seen["ingest"]) == ["UploadComplete", "InProgress", "JobComplete"]
    assert _distinct(seen["query"]) == ["UploadComplete", "InProgress", "JobComplete"]
    assert seen["count"] == [str(ROWS)]
