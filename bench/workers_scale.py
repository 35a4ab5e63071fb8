"""Queue workers at scale: N integrations (one sandbox org of M contacts each) transferred
into People by 1, 2 or 3 `peoplesync worker` processes sharing one PostgreSQL database.

Usage: python -m bench workers_scale [--integrations N] [--contacts M] [--workers 1,2,3]
       [--timeout SECONDS] [--sample SECONDS]
Prints one JSON document. The N orgs are seeded once, in parallel, before anything is timed
(each with its own seed, so the orgs hold different people), and serve every worker count:
the runs only read them (`salesforce connect` enables no outbound step, so no push job is
queued; the job log summary shows what ran). The N orgs are connected once, into a database
that each worker count gets a fresh copy of (CREATE DATABASE ... TEMPLATE); then W workers
start; the clock runs from their start until every org's
contacts are linked in People (or the timeout). Records/s counts linked contacts over that
time; each integration's completion time is when its last contact was linked (polled every
``--sample`` seconds). Queue latency is, per job, its first start minus its deferral
(procrastinate's event log): it includes waiting for its integration's lock while another
job of the same step runs. While a run goes, the 1-minute load average, the workers' resident
memory and the PostgreSQL connections are sampled (the machine is shared: read the figures
with the load beside them).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

PEOPLESYNC = [sys.executable, "-m", "peoplesync.cli.main"]
POSTGRES_URL = os.environ.get(
    "PEOPLESYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def start_orgs(
    tmp: Path, count: int, contacts: int, stack: ExitStack
) -> tuple[list[dict[str, Any]], float]:
    """Seed and serve ``count`` orgs side by side; their connection details and the seconds
    seeding took (every org stops when ``stack`` closes)."""
    started = time.perf_counter()
    servers = []
    for i in range(count):
        server = subprocess.Popen(
            [
                *PEOPLESYNC,
                "sandbox",
                "salesforce",
                "--data-dir",
                str(tmp / f"org{i}"),
                "--port",
                "0",
                "--seed-contacts",
                str(contacts),
                "--seed-accounts",
                str(max(1, contacts // 20)),
                "--seed",
                str(i + 1),
                "--api-limit",
                "10000000",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        stack.callback(server.wait, 60)
        stack.callback(server.terminate)
        servers.append(server)
    infos = []
    for server in servers:
        assert server.stdout is not None
        infos.append(json.loads(server.stdout.readline()))
    return infos, time.perf_counter() - started


@contextmanager
def fresh_database(template: str | None = None) -> Iterator[str]:
    """A new database (a copy of ``template``'s database when given), dropped on exit."""
    name = f"bench_workers_{uuid.uuid4().hex[:8]}"
    copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
    with psycopg.connect(libpq(POSTGRES_URL), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"{copy}')
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
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"connecting {name}: {done.stderr}")


def connect_all(orgs: list[dict[str, Any]], env: dict[str, str]) -> None:
    """Connect every org: the first alone (it migrates the empty database), the others three
    at a time."""
    connect(orgs[0], env, "org0")
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(lambda i: connect(orgs[i], env, f"org{i}"), range(1, len(orgs))))


def query(db_url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(libpq(db_url)) as db:
        return db.execute(sql).fetchall()


def linked_by_system(db_url: str) -> dict[str, int]:
    rows = query(
        db_url,
        "SELECT system, count(*) FROM external_links WHERE object = 'Contact' GROUP BY system",
    )
    return {str(r[0]): int(r[1]) for r in rows}


def summary(values: list[float], digits: int = 3) -> dict[str, Any]:
    ordered = sorted(values)
    if not ordered:
        return {"n": 0}
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), digits),
        "p95": round(ordered[math.ceil(0.95 * len(ordered)) - 1], digits),  # nearest rank
        "max": round(ordered[-1], digits),
    }


def queue_latencies(db_url: str) -> dict[str, Any]:
    rows = query(
        db_url,
        "SELECT j.task_name, extract(epoch FROM min(s.at) - min(d.at)) "
        "FROM procrastinate_events d "
        "JOIN procrastinate_events s ON s.job_id = d.job_id AND s.type = 'started' "
        "JOIN procrastinate_jobs j ON j.id = d.job_id "
        "WHERE d.type = 'deferred' GROUP BY d.job_id, j.task_name",
    )
    waits = [float(r[1]) for r in rows if r[1] is not None]
    by_task: dict[str, list[float]] = {}
    for task, wait in rows:
        if wait is not None:
            by_task.setdefault(str(task), []).append(float(wait))
    return {"all": summary(waits), **{t: summary(w) for t, w in sorted(by_task.items())}}


def job_log(db_url: str) -> dict[str, int]:
    """How many job runs ended how, per task (from peoplesync's job log)."""
    rows = query(
        db_url,
        "SELECT task, CASE WHEN ended_at IS NULL THEN 'running' ELSE outcome END, count(*) "
        "FROM worker_job_runs "
        "GROUP BY 1, 2 ORDER BY 1, 2",
    )
    return {f"{r[0]} {r[1]}": int(r[2]) for r in rows}


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Sampler:
    """Samples figures in a thread every ``every`` seconds until stopped."""

    def __init__(self, every: float, probes: dict[str, Callable[[], float]]) -> None:
        self.every = every
        self.probes = probes
        self.samples: dict[str, list[float]] = {name: [] for name in probes}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, probe in self.probes.items():
                try:
                    self.samples[name].append(probe())
                except (psycopg.Error, OSError) as error:  # a failed probe never ends the run
                    print(f"sample {name}: {error}", file=sys.stderr, flush=True)
            self._stop.wait(self.every)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def figures(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, values in self.samples.items():
            if values:
                out[name] = {
                    "min": round(min(values), 2),
                    "mean": round(statistics.fmean(values), 2),
                    "max": round(max(values), 2),
                    "first": round(values[0], 2),
                    "last": round(values[-1], 2),
                    "samples": len(values),
                }
        return out


def connections(db_url: str, database: str | None) -> float:
    where = f"WHERE datname = '{database}'" if database else ""
    rows = query(db_url, f"SELECT count(*) FROM pg_stat_activity {where}")
    return float(rows[0][0])


def environment(db_url: str, tmp: Path) -> dict[str, str]:
    """The workers' settings (the data dir holds the key the credentials are sealed with)."""
    return {
        **os.environ,
        "PEOPLESYNC_DATA_DIR": str(tmp / "people"),
        "PEOPLESYNC_DATABASE_URL": db_url,
        "PEOPLESYNC_WORKER_HOLD": "60",
        "PEOPLESYNC_WORKER_KEEP_CRON": "* * * * * */5",
    }


def stop(processes: list[subprocess.Popen[bytes]]) -> list[str]:
    """SIGTERM every worker; one still running a minute later is killed. How each ended."""
    for process in processes:
        process.terminate()
    ended = []
    for process in processes:
        try:
            process.wait(timeout=60)
            ended.append("terminated")
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            ended.append("killed: still running 60 s after SIGTERM")
    return ended


def run(
    connected: str, contacts: int, integrations: int, workers: int, tmp: Path, args: Any
) -> dict[str, Any]:
    """One worker count on a copy of the ``connected`` database (every org connected)."""
    with fresh_database(connected) as db_url, ExitStack() as stack:
        env = environment(db_url, tmp)
        expected = contacts * integrations
        concurrency = str(2 * integrations // workers + 2)
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
        database = make_url(db_url).database
        completed: dict[str, float] = {}
        probes: dict[str, Callable[[], float]] = {
            "load_1min": lambda: os.getloadavg()[0],
            "workers_rss_mb": lambda: sum(rss_mb(p.pid) for p in processes),
            "db_connections": lambda: connections(db_url, database),
            "server_connections": lambda: connections(db_url, None),
        }
        try:
            with Sampler(args.sample, probes) as sampler:
                done, counts = 0, {}
                while done < expected and time.perf_counter() - started < args.timeout:
                    time.sleep(args.sample)
                    counts = linked_by_system(db_url)
                    now = time.perf_counter() - started
                    for system, count in counts.items():
                        if count >= contacts and system not in completed:
                            completed[system] = round(now, 1)
                    done = sum(counts.values())
                    if any(p.poll() is not None for p in processes):
                        break  # a worker died: report what was done
            seconds = time.perf_counter() - started
            exits = [p.poll() for p in processes]
            waits = queue_latencies(db_url)
            runs = job_log(db_url)
        finally:
            stopped = stop(processes)
    return {
        "workers": workers,
        "concurrency_per_worker": int(concurrency),
        "linked": done,
        "expected": expected,
        "seconds": round(seconds, 1),
        "records_per_second": round(done / seconds, 1),
        "linked_by_integration": dict(sorted(counts.items())),
        "completed_s": dict(sorted(completed.items(), key=lambda item: item[1])),
        "queue_latency_s": waits,
        "job_runs": runs,
        "worker_exits_before_end": exits,
        "workers_stopped": stopped,
        "sampled": sampler.figures(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench workers_scale")
    parser.add_argument("--integrations", type=int, default=10)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--timeout", type=float, default=3600.0, help="per worker count")
    parser.add_argument("--sample", type=float, default=3.0, help="seconds between samples")
    parser.add_argument(
        "--orgs-dir",
        type=Path,
        help="keep the orgs here: an org found there is served again as it is, not seeded",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp_name, ExitStack() as stack:
        tmp = Path(tmp_name)
        orgs, seed_seconds = start_orgs(
            args.orgs_dir or tmp, args.integrations, args.contacts, stack
        )
        print(f"orgs seeded in {seed_seconds:.1f} s", file=sys.stderr, flush=True)
        connected = stack.enter_context(fresh_database())
        started = time.perf_counter()
        connect_all(orgs, environment(connected, tmp))
        connect_seconds = time.perf_counter() - started
        results = []
        for count in str(args.workers).split(","):
            results.append(run(connected, args.contacts, args.integrations, int(count), tmp, args))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
        with psycopg.connect(libpq(POSTGRES_URL)) as db:
            row = db.execute("SHOW max_connections").fetchone()
    print(
        json.dumps(
            {
                "benchmark": "workers_scale",
                "integrations": args.integrations,
                "contacts_per_integration": args.contacts,
                "org_seed_seconds": round(seed_seconds, 1),
                "connect_seconds": round(connect_seconds, 1),
                "postgres_max_connections": int(row[0]) if row else None,
                "machine": {
                    "cpus": os.cpu_count(),
                    "memory_gib": round(
                        os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
                    ),
                    "python": platform.python_version(),
                },
                "runs": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
