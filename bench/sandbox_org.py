"""Sandbox org: seeding speed, REST query throughput and server memory with many records.

Usage: python -m bench sandbox_org [--contacts N] [--scan N]
Prints one JSON document.
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
from pathlib import Path
from typing import Any

import httpx

from peoplesync.sandbox.salesforce.config import SandboxConfig
from peoplesync.sandbox.salesforce.server import seed_if_empty


def rss_mb(pid: int) -> dict[str, float]:
    """Current and peak resident memory of a process, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return fields


async def measure(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    config = SandboxConfig(data_dir=data_dir, seed=1)
    started = time.perf_counter()
    await seed_if_empty(
        config, accounts=args.contacts // 20, contacts=args.contacts, leads=args.contacts // 10
    )
    seed_seconds = time.perf_counter() - started
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "peoplesync.cli.main",
            "sandbox",
            "salesforce",
            "--data-dir",
            str(data_dir),
            "--port",
            "0",
            "--api-limit",
            "10000000",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        info = json.loads(server.stdout.readline())
        async with httpx.AsyncClient(
            verify=info["ca_cert"], base_url=info["instance_url"], timeout=120
        ) as client:
            token = (
                await client.post(
                    "/services/oauth2/token",
                    data={
                        "grant_type": "password",
                        "client_id": info["client_id"],
                        "client_secret": info["client_secret"],
                        "username": info["username"],
                        "password": info["password"],
                    },
                )
            ).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            started = time.perf_counter()
            count = (
                await client.get(
                    "/services/data/v59.0/query", params={"q": "SELECT COUNT() FROM Contact"}
                )
            ).json()["totalSize"]
            count_seconds = time.perf_counter() - started
            started = time.perf_counter()
            page = (
                await client.get(
                    "/services/data/v59.0/query",
                    params={
                        "q": f"SELECT Id, FirstName, LastName, Email, Phone, Title, MailingCity, Account.Name, SystemModstamp FROM Contact ORDER BY SystemModstamp, Id LIMIT {args.scan}"
                    },
                )
            ).json()
            rows = len(page["records"])
            calls = 1
            while page.get("nextRecordsUrl"):
                page = (await client.get(page["nextRecordsUrl"])).json()
                rows += len(page["records"])
                calls += 1
            scan_seconds = time.perf_counter() - started
            started = time.perf_counter()
            for i in range(200):
                await client.get(
                    "/services/data/v59.0/query",
                    params={"q": f"SELECT Id FROM Contact WHERE Email = 'nobody{i}@example.com'"},
                )
            lookup_ms = (time.perf_counter() - started) / 200 * 1000
            started = time.perf_counter()
            job = (
                await client.post(
                    "/services/data/v59.0/jobs/query",
                    json={
                        "operation": "query",
                        "query": "SELECT Id, FirstName, LastName, Email, Phone, Title, MailingCity, SystemModstamp FROM Contact",
                    },
                )
            ).json()
            while (await client.get(f"/services/data/v59.0/jobs/query/{job['id']}")).json()[
                "state"
            ] != "JobComplete":
                await asyncio.sleep(0.05)
            bulk_rows, locator, bulk_calls = 0, "", 0
            while locator != "null":
                params = {"maxRecords": "100000", **({"locator": locator} if locator else {})}
                response = await client.get(
                    f"/services/data/v59.0/jobs/query/{job['id']}/results", params=params
                )
                bulk_rows += int(response.headers["Sforce-NumberOfRecords"])
                locator = response.headers["Sforce-Locator"]
                bulk_calls += 1
            bulk_seconds = time.perf_counter() - started
            memory = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    database_mb = round(
        sum(p.stat().st_size for p in data_dir.glob("org.sqlite3*")) / 1024 / 1024, 1
    )
    return {
        "benchmark": "sandbox_org",
        "contacts": count,
        "seed_records": args.contacts + args.contacts // 20 + args.contacts // 10,
        "seed_seconds": round(seed_seconds, 2),
        "seed_records_per_second": round((args.contacts * 1.15) / seed_seconds),
        "count_query_ms": round(count_seconds * 1000, 1),
        "rest_scan_rows": rows,
        "rest_scan_calls": calls,
        "rest_query_rows_per_second": round(rows / scan_seconds),
        "indexed_lookup_ms": round(lookup_ms, 2),
        "bulk2_query_rows": bulk_rows,
        "bulk2_query_calls": bulk_calls + 2,
        "bulk2_query_rows_per_second": round(bulk_rows / bulk_seconds),
        "server_rss_mb": memory.get("VmRSS"),
        "server_peak_rss_mb": memory.get("VmHWM"),
        "database_mb": database_mb,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }


def main(argv: list[str] | None = None) -> None:
    """Entry point used by ``python -m bench``."""
    parser = argparse.ArgumentParser(prog="bench sandbox_org")
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--scan", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(asyncio.run(measure(args, Path(tmp) / "org"))), flush=True)
