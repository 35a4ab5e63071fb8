"""Report write-back into the Marketing Cloud sandbox: rows/s through ``write_rows``.

``peoplesync sandbox marketing-cloud --http`` runs as a second process; this one deploys the
data extensions and writes N SMS delivery-report rows (every column filled, times as UTC
datetimes converted to server time) through the async API in batches, then the same number
of rows again as updates; a last pass writes 49-row batches through the synchronous rowset
API, several in flight. Prints JSON: rows/s on the wall clock, and rows per CPU second of
both processes together (this one and the sandbox, from Linux /proc), which other load on
the machine does not change.

    python -m bench mc_write_back --rows 100000 --batch 5000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from peoplesync.marketing_cloud.client import MarketingCloudClient
from peoplesync.marketing_cloud.data_extensions import SMS_DELIVERY_REPORTS
from peoplesync.marketing_cloud.deploy import deploy
from peoplesync.marketing_cloud.write_back import WritePolicy, write_rows


def report(n: int, status: str) -> dict[str, object]:
    """One SMS delivery report row with every report column set."""
    now = datetime.now(UTC)
    return {
        "messageId": f"bench-{n:08d}",
        "messageCount": 1,
        "to": f"38591{n:07d}",
        "from": "peoplesync",
        "pricePerMessage": "0.0125",
        "priceCurrency": "EUR",
        "statusGroupId": 3,
        "statusGroupName": status,
        "statusId": 5,
        "statusName": "DELIVERED_TO_HANDSET",
        "statusDescription": "Message delivered to handset",
        "errorGroupId": 0,
        "errorGroupName": "OK",
        "errorId": 0,
        "errorName": "NO_ERROR",
        "errorDescription": "No Error",
        "errorPermanent": False,
        "callbackData": json.dumps({"contactKey": f"c-{n}"}),
        "sentAt": now,
        "doneAt": now,
        "ActivityId": "activity-1",
        "ContactKey": f"c-{n}",
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of process ``pid`` (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _run(
    info: dict[str, Any], rows: int, batch: int, concurrency: int, server: int
) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=120) as http:
        client = MarketingCloudClient(
            info["auth_url"], info["client_id"], info["client_secret"], info["mid"], http
        )
        await deploy(client, [SMS_DELIVERY_REPORTS])
        policy = WritePolicy(async_batch=batch, poll_interval=0.05)
        figures: dict[str, Any] = {}
        for phase, status in (("insert", "DELIVERED"), ("update", "UNDELIVERABLE")):
            data = [report(n, status) for n in range(rows)]
            started = time.perf_counter()
            cpu = time.process_time() + cpu_seconds(server)
            outcome = await write_rows(client, SMS_DELIVERY_REPORTS, data, policy)
            seconds = time.perf_counter() - started
            cpu = time.process_time() + cpu_seconds(server) - cpu
            assert outcome.written == rows and not outcome.errors, outcome.errors[:3]
            figures[f"async_{phase}_seconds"] = round(seconds, 2)
            figures[f"async_{phase}_rows_per_second"] = round(rows / seconds)
            figures[f"async_{phase}_rows_per_cpu_second"] = round(rows / cpu)
        sync_rows = min(rows, 20_000)
        data = [report(n, "EXPIRED") for n in range(sync_rows)]
        parts = [data[start : start + 49] for start in range(0, sync_rows, 49)]
        gate = asyncio.Semaphore(concurrency)

        async def one(part: list[dict[str, object]]) -> int:
            async with gate:
                return (await write_rows(client, SMS_DELIVERY_REPORTS, part)).written

        started = time.perf_counter()
        written = sum(await asyncio.gather(*(one(part) for part in parts)))
        seconds = time.perf_counter() - started
        assert written == sync_rows
        figures["sync_rows"] = sync_rows
        figures["sync_rows_per_second"] = round(sync_rows / seconds)
        stored = await client.read_rows(SMS_DELIVERY_REPORTS.key, page_size=1)
        figures["rows_in_extension"] = stored["count"]
        return figures


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench mc_write_back")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "peoplesync.cli.main",
                "sandbox",
                "marketing-cloud",
                "--http",
                "--data-dir",
                str(Path(scratch) / "mc"),
                "--port",
                "0",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            info = json.loads(process.stdout.readline())
            figures = asyncio.run(_run(info, args.rows, args.batch, args.concurrency, process.pid))
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(
        json.dumps(
            {
                "benchmark": "marketing_cloud_write_back",
                "rows": args.rows,
                "batch": args.batch,
                **figures,
                "python": platform.python_version(),
                "machine": f"{platform.machine()}, 2 cores",
            }
        )
    )
