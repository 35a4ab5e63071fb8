"""Bulk jobs outlive the org's process: stopped or killed mid-job, it carries on when started
again on the same data folder, and writes every row exactly once."""

from __future__ import annotations

import csv
import io
import ssl
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.served_org import call, login, served_org, served_org_process

API = "/services/data/v59.0"
ROWS = 12_000  # two chunks: 10,000 and 2,000


def _text(info: dict[str, Any], path: str, token: str) -> tuple[str, dict[str, str]]:
    context = ssl.create_default_context(cafile=info["ca_cert"])
    request = urllib.request.Request(
        info["instance_url"] + path, headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, context=context) as response:
        return response.read().decode(), dict(response.headers)


def _wait(info: dict[str, Any], token: str, path: str, done: Any) -> dict[str, Any]:
    for _ in range(3_000):
        job: dict[str, Any] = call(info, path, token)
        if done(job):
            return job
        time.sleep(0.02)
    raise AssertionError(f"{path} never got there: {job}")


def _start_jobs(info: dict[str, Any], token: str) -> tuple[str, str]:
    """A finished query job, and an insert job left in progress after its first chunk."""
    call(info, f"{API}/sobjects/Account/", token, body={"Name": "Kept Query Co"})
    query = call(
        info,
        f"{API}/jobs/query",
        token,
        body={"operation": "query", "query": "SELECT Name FROM Account"},
    )["id"]
    _wait(info, token, f"{API}/jobs/query/{query}", lambda j: j["state"] == "JobComplete")
    ingest = call(
        info, f"{API}/jobs/ingest", token, body={"object": "Contact", "operation": "insert"}
    )["id"]
    rows = "LastName,Email\n" + "".join(f"Restart {i},r{i}@example.com\n" for i in range(ROWS))
    context = ssl.create_default_context(cafile=info["ca_cert"])
    upload = urllib.request.Request(
        f"{info['instance_url']}{API}/jobs/ingest/{ingest}/batches",
        data=rows.encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
        method="PUT",
    )
    urllib.request.urlopen(upload, context=context).close()
    call(
        info, f"{API}/jobs/ingest/{ingest}", token, method="PATCH", body={"state": "UploadComplete"}
    )
    _wait(
        info,
        token,
        f"{API}/jobs/ingest/{ingest}",
        lambda j: j["state"] == "InProgress" and j["numberRecordsProcessed"] >= 10_000,
    )
    return query, ingest


@pytest.mark.parametrize("stop", ["terminate", "kill"])
async def test_jobs_survive_a_restart_and_an_interrupted_one_completes(
    tmp_path: Path, stop: str
) -> None:
    data = tmp_path / "org"
    # 2,000 rows a second: the insert job is still in progress when the org stops.
    pace = ("--bulk-latency", "0.2", "--bulk-rows-per-second", "2000")
    with served_org_process(data, *pace) as (process, info):
        token = login(info)
        query, ingest = _start_jobs(info, token)
        if stop == "kill":
            process.kill()  # SIGKILL: no shutdown at all
            process.wait()
    with served_org(data) as info:
        token = login(info)
        kept = call(info, f"{API}/jobs/query/{query}", token)
        assert kept["state"] == "JobComplete"
        text, headers = _text(info, f"{API}/jobs/query/{query}/results", token)
        assert text.splitlines() == ["Name", "Kept Query Co"]
        assert headers["Sforce-Locator"] == "null"
        job = _wait(
            info, token, f"{API}/jobs/ingest/{ingest}", lambda j: j["state"] != "InProgress"
        )
        assert (job["state"], job["numberRecordsProcessed"], job["numberRecordsFailed"]) == (
            "JobComplete",
            ROWS,
            0,
        )
        text, _ = _text(info, f"{API}/jobs/ingest/{ingest}/successfulResults", token)
        results = list(csv.DictReader(io.StringIO(text)))
        assert len({r["sf__Id"] for r in results}) == ROWS
        assert {r["Email"] for r in results} == {f"r{i}@example.com" for i in range(ROWS)}
        count = call(info, f"{API}/query/?q=SELECT+COUNT()+FROM+Contact", token)
        assert count["totalSize"] == ROWS  # every row written once: none lost, none twice
