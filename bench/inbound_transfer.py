"""Initial transfer of Contacts from a served sandbox org into a fresh People store.

Usage: python -m bench inbound_transfer [--contacts N] [--backend sqlite|postgres]
       [--threshold N] [--batch N]
Prints one JSON document. The org runs as one process (`peoplesync sandbox salesforce`), the
sync as another (so its peak memory is its own); the sync connects with our client as the CLI
does and runs the Contact step once (the bulk path above ``--threshold``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from peoplesync.clock import SystemClock
from peoplesync.people.database import create_engine, migrate
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.salesforce.auth import Authenticator, PasswordCredentials
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.sync.inbound.runner import BULK_BATCH, BULK_THRESHOLD, InboundRunner, InboundStep
from peoplesync.sync.mapping import DEFAULT_MAPPINGS

POSTGRES_URL = os.environ.get(
    "PEOPLESYNC_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def cpu_seconds() -> float:
    """CPU time of this process so far, all threads (user + system): a figure that other
    work on the machine disturbs less than the wall clock."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return round(usage.ru_utime + usage.ru_stime, 2)


async def transfer(info: dict[str, Any], url: str, threshold: int, batch: int) -> dict[str, Any]:
    """The sync process: one run of the Contact step into the People store at ``url``."""
    engine = create_engine(url)
    await migrate(engine)
    store = SqlPeopleStore(engine, SystemClock(), default_phone_region="US")
    started = time.perf_counter()
    async with httpx.AsyncClient(verify=info["ca_cert"], timeout=180) as http:
        credentials = PasswordCredentials(
            info["client_id"], info["client_secret"], info["username"], info["password"]
        )
        client = SalesforceClient(http, Authenticator(http, info["login_url"], credentials))
        runner = InboundRunner(
            client,
            store,
            InboundStep("Contact", DEFAULT_MAPPINGS["Contact"]),
            SystemClock(),
            bulk_threshold=threshold,
            bulk_batch_size=batch,
        )
        report = await runner.run_once()
    seconds = time.perf_counter() - started
    persons = await store.count_persons()
    await engine.dispose()
    return {
        "read": report.read,
        "created": report.created,
        "rejected": len(report.rejected),
        "duplicates": len(report.duplicates),
        "persons": persons,
        "api_calls": client.usage.calls,
        "seconds": round(seconds, 2),
        "sync_peak_rss_mb": peak_rss_mb(),
        "sync_cpu_seconds": cpu_seconds(),
    }


def start_org(data_dir: Path, contacts: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
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
            "--seed-contacts",
            str(contacts),
            "--seed-accounts",
            str(max(1, contacts // 20)),
            "--seed",
            "1",
            "--api-limit",
            "10000000",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    return server, json.loads(server.stdout.readline())


async def fresh_postgres() -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    return schema, f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


async def drop_postgres(schema: str) -> None:
    admin = create_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    await admin.dispose()


def measure(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    started = time.perf_counter()
    server, info = start_org(tmp / "org", args.contacts)
    seed_seconds = time.perf_counter() - started
    schema = None
    try:
        if args.backend == "postgres":
            schema, url = asyncio.run(fresh_postgres())
        else:
            url = f"sqlite+aiosqlite:///{tmp / 'people.db'}"
        started = time.perf_counter()
        child = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.inbound_transfer",
                "--sync",
                json.dumps(info),
                url,
                str(args.threshold),
                str(args.batch),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=60)
        if schema is not None:
            asyncio.run(drop_postgres(schema))
    result = json.loads(child.stdout.strip().splitlines()[-1])
    return {
        "benchmark": "inbound_transfer",
        "backend": args.backend,
        "contacts": args.contacts,
        "path": "bulk" if args.contacts >= args.threshold else "rest",
        "batch_size": args.batch,
        **result,
        "records_per_second": round(result["read"] / result["seconds"]),
        "process_seconds": round(wall, 2),
        "org_start_and_seed_seconds": round(seed_seconds, 2),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }


def main(argv: list[str] | None = None) -> None:
    """Entry point used by ``python -m bench``."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--sync"]:
        info, url, threshold, batch = json.loads(argv[1]), argv[2], int(argv[3]), int(argv[4])
        print(json.dumps(asyncio.run(transfer(info, url, threshold, batch))), flush=True)
        return
    parser = argparse.ArgumentParser(prog="bench inbound_transfer")
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--threshold", type=int, default=BULK_THRESHOLD)
    parser.add_argument("--batch", type=int, default=BULK_BATCH)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(measure(args, Path(tmp))), flush=True)


if __name__ == "__main__":
    main()
