"""Push latency: from a People edit to the Salesforce record, on SQLite and PostgreSQL.

Usage: python -m bench push_latency [--samples N] [--backends sqlite,postgres]
       [--modes serve,apart] [--postgres-url URL]
Prints one JSON document per backend and mode. Every run starts a fresh org (`peoplesync
sandbox salesforce`, its own process) and a fresh People database (SQLite in a temporary data
directory, or a new schema of the PostgreSQL database), connects it, imports N + 1 persons and
pushes them once (each becomes a Lead), then edits one person at a time through the REST API
of `peoplesync serve` (PATCH /api/v1/persons/{id}, a new Title) with a random 0.2-0.5 s pause. The
first edit only warms up (the push loop may still be starting) and is not counted.

t0 is taken just before the PATCH is sent; the arrival is the Lead's SystemModstamp (the org's
commit time), read by polling the org every 10 ms. Both clocks are this machine's.

Modes:
  serve   the push loop runs in the serve process (its sync workers), beside the web app
          that takes the edit
  apart   `serve --no-workers` takes the edit, `push run --follow` pushes from a process of
          its own (on PostgreSQL the wake-up crosses processes by LISTEN/NOTIFY; on SQLite it
          cannot, and the push waits for its timer, --interval 2)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bench.outbound_push import linked_people, org_token, start_org, stop

CLI = [sys.executable, "-m", "peoplesync.cli.main"]
API = "/services/data/v59.0"
EMAIL = "admin@bench.example"
PASSWORD = "bench password 123"  # noqa: S105 (a throwaway account of the benchmark)


class Served:
    """A `peoplesync serve` process and its address, read from its console."""

    def __init__(self, env: dict[str, str], log: Path, *options: str) -> None:
        self.process = subprocess.Popen(
            [*CLI, "serve", "--port", "0", "--insecure-cookies", *options],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.address = ""
        found = threading.Event()

        def read() -> None:
            assert self.process.stderr is not None
            with log.open("w") as out:
                for line in self.process.stderr:
                    out.write(line)
                    out.flush()
                    match = re.search(r"serving on (http://\S+?)/", line)
                    if match and not self.address:
                        self.address = match.group(1)
                        found.set()
            found.set()

        threading.Thread(target=read, daemon=True).start()
        if not found.wait(120) or not self.address:
            raise RuntimeError(f"serve did not start: {log.read_text()[-2000:]}")


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _postgres_schema(url: str) -> tuple[str, str]:
    """A new schema on ``url``'s database and the URL whose connections use it."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    joiner = "&" if "?" in url else "?"
    return schema, f"{url}{joiner}options=-csearch_path%3D{schema}"


def _drop_schema(url: str, schema: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def run(tmp: Path, backend: str, mode: str, samples: int, postgres_url: str) -> dict[str, Any]:
    """One backend and mode: set up, edit ``samples`` persons, return the figures."""
    server, info = start_org(tmp / "org", "--seed-leads", "50")
    data = tmp / "data"
    env = {
        **os.environ,
        "PEOPLESYNC_DATA_DIR": str(data),
        "PEOPLESYNC_SF_CLIENT_SECRET": info["client_secret"],
        "PEOPLESYNC_SF_PASSWORD": info["password"],
        "PEOPLESYNC_USER_PASSWORD": PASSWORD,
    }
    schema = ""
    if backend == "postgres":
        schema, env["PEOPLESYNC_DATABASE_URL"] = _postgres_schema(postgres_url)
    processes: list[subprocess.Popen[str]] = []

    try:
        cli = linked_people(env, info, tmp, samples + 1)
        cli("users", "add", EMAIL, "--role", "admin")
        token = cli("users", "token", EMAIL).strip()
        served = Served(env, tmp / "serve.log", *(["--no-workers"] if mode == "apart" else []))
        processes.append(served.process)
        if mode == "apart":
            pusher = subprocess.Popen(
                [*CLI, "push", "run", "--follow", "--interval", "2", "--json"],
                env=env,
                stdout=(tmp / "push.out").open("w"),
                stderr=(tmp / "push.log").open("w"),
                text=True,
            )
            processes.append(pusher)
        delays = _edit_and_wait(info, served.address, token, samples)
    finally:
        for process in processes:
            stop(process)
        stop(server)
        if schema:
            _drop_schema(postgres_url, schema)
    return {
        "backend": backend,
        "mode": mode,
        "samples": len(delays),
        "p50_ms": round(percentile(delays, 0.50) * 1000),
        "p95_ms": round(percentile(delays, 0.95) * 1000),
        "max_ms": round(max(delays) * 1000),
        "mean_ms": round(statistics.fmean(delays) * 1000),
        "target_p95_ms": 250,
    }


def _edit_and_wait(info: dict[str, Any], address: str, token: str, samples: int) -> list[float]:
    """Edit every person once (the first edit warms the push loop up and is not counted)."""
    org = httpx.Client(base_url=info["instance_url"], verify=info["ca_cert"], timeout=60)
    org.headers["Authorization"] = f"Bearer {org_token(info)}"
    web = httpx.Client(base_url=address, timeout=60, headers={"Authorization": f"Bearer {token}"})
    delays: list[float] = []
    try:
        for i in range(samples + 1):
            email = f"lat{i}@bench.example"
            persons = web.get("/api/v1/persons", params={"q": email}).raise_for_status().json()
            person = persons["items"][0]["id"]
            soql = urllib.parse.quote(f"SELECT Id FROM Lead WHERE Email = '{email}'")
            lead = org.get(f"{API}/query?q={soql}").raise_for_status().json()["records"][0]["Id"]
            title = f"Moved {i} {uuid.uuid4().hex[:8]}"
            time.sleep(random.uniform(0.2, 0.5))
            sent = time.time()
            web.patch(
                f"/api/v1/persons/{person}", json={"values": {"title": title}}
            ).raise_for_status()
            stamp = _arrival(org, lead, title, timeout=300 if i == 0 else 60)
            if i:
                delays.append(max(0.0, stamp - sent))
    finally:
        org.close()
        web.close()
    return delays


def _arrival(org: httpx.Client, lead: str, title: str, *, timeout: float) -> float:
    """The Lead's SystemModstamp (epoch seconds) once it carries ``title``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = org.get(f"{API}/sobjects/Lead/{lead}").raise_for_status().json()
        if record.get("Title") == title:
            moment = datetime.strptime(record["SystemModstamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
            return moment.timestamp()
        time.sleep(0.01)
    raise RuntimeError(f"the edit {title!r} never reached Lead {lead}")


def main(argv: list[str] | None = None) -> None:
    """Entry point used by ``python -m bench``."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="bench push_latency")
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--modes", default="serve,apart")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "PEOPLESYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args(argv)
    for backend in args.backends.split(","):
        for mode in args.modes.split(","):
            with tempfile.TemporaryDirectory() as tmp:
                result = run(Path(tmp), backend, mode, args.samples, args.postgres_url)
            result |= {
                "benchmark": "push_latency",
                "python": platform.python_version(),
                "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                "load_average_1m": round(os.getloadavg()[0], 2),
            }
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
