"""Queue workers at scale: N integrations (one sandbox org of M contacts each) transferred
into People by 1, 2 or 3 `peoplesync worker` processes sharing one PostgreSQL database.

Usage: python -m bench workers_scale [--integrations N] [--contacts M] [--workers 1,2,3]
Prints one JSON document. For each worker count: a fresh database, the N orgs connected,
then W workers started; the clock runs from their start until every org's contacts are
linked in People. Records/s counts linked contacts over that time. Queue latency is, per
job, its first start minus its deferral (procrastinate's event log): it includes waiting
for its integration's lock while another job of the same step runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from bench.inbound_transfer import start_org

PEOPLESYNC = [sys.executable, "-m", "peoplesync.cli.main"]
POSTGRES_URL = os.environ.get(
    "PEOPLESYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TIMEOUT = 3600.0


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def fresh_database() -> Iterator[str]:
    name = f"bench_workers_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq(POSTGRES_URL), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq(POSTGRES_URL), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def connect(info: dict[str, Any], env: dict[str, str], name: str) -> None:
    done = subprocess.run(
        [
            *PEOPLESYNC,
            "salesforce",
            "connect",
            "--login-url",
            info["login_url"],
            "--client-id",
            info["client_id"],
            "--ca-cert",
            info["ca_cert"],
            "--username",
            info["username"],
            "--name",
            name,
        ],
        capture_output=True,
        text=True,
        env={
            **env,
            "PEOPLESYNC_SF_CLIENT_SECRET": info["client_secret"],
            "PEOPLESYNC_SF_PASSWORD": info["password"],
        },
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)


def linked(db_url: str) -> int:
    with psycopg.connect(libpq(db_url)) as db:
        row = db.execute("SELECT count(*) FROM external_links WHERE object = 'Contact'").fetchone()
    return int(row[0]) if row else 0


def queue_latencies(db_url: str) -> list[float]:
    with psycopg.connect(libpq(db_url)) as db:
        rows = db.execute(
            "SELECT extract(epoch FROM min(s.at) - min(d.at)) FROM procrastinate_events d "
            "JOIN procrastinate_events s ON s.job_id = d.job_id AND s.type = 'started' "
            "WHERE d.type = 'deferred' GROUP BY d.job_id"
        ).fetchall()
    return sorted(float(r[0]) for r in rows if r[0] is not None)


def run(orgs: list[dict[str, Any]], contacts: int, workers: int, tmp: Path) -> dict[str, Any]:
    with fresh_database() as db_url, ExitStack() as stack:
        env = {
            **os.environ,
            "PEOPLESYNC_DATA_DIR": str(tmp / f"people{workers}"),
            "PEOPLESYNC_DATABASE_URL": db_url,
            "PEOPLESYNC_WORKER_HOLD": "60",
            "PEOPLESYNC_WORKER_KEEP_CRON": "* * * * * */5",
        }
        for i, info in enumerate(orgs):
            connect(info, env, f"org{i}")
        expected = contacts * len(orgs)
        concurrency = str(2 * len(orgs) // workers + 2)
        started = time.perf_counter()
        processes = [
            subprocess.Popen(
                [*PEOPLESYNC, "worker", "--concurrency", concurrency],
                stdout=subprocess.DEVNULL,
                stderr=stack.enter_context((tmp / f"w{workers}-{i}.log").open("w")),
                env=env,
            )
            for i in range(workers)
        ]
        try:
            done = linked(db_url)
            while done < expected and time.perf_counter() - started < TIMEOUT:
                time.sleep(0.5)
                done = linked(db_url)
            seconds = time.perf_counter() - started
            waits = queue_latencies(db_url)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=60)
    return {
        "workers": workers,
        "linked": done,
        "expected": expected,
        "seconds": round(seconds, 2),
        "records_per_second": round(done / seconds, 1),
        "queue_latency_s": {
            "jobs": len(waits),
            "p50": round(statistics.median(waits), 3) if waits else None,
            "p95": round(waits[int(0.95 * (len(waits) - 1))], 3) if waits else None,
            "max": round(waits[-1], 3) if waits else None,
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench workers_scale")
    parser.add_argument("--integrations", type=int, default=10)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--workers", default="1,2,3")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp_name, ExitStack() as stack:
        tmp = Path(tmp_name)
        orgs = []
        for i in range(args.integrations):
            server, info = start_org(tmp / f"org{i}", args.contacts)
            stack.callback(server.wait, 60)
            stack.callback(server.terminate)
            orgs.append(info)
        results = [run(orgs, args.contacts, int(w), tmp) for w in str(args.workers).split(",")]
    print(
        json.dumps(
            {
                "benchmark": "workers_scale",
                "integrations": args.integrations,
                "contacts_per_integration": args.contacts,
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "runs": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
