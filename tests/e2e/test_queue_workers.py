"""Issue 13: three `peoplesync worker` processes share two integrations (two sandbox orgs)
through the job queue in PostgreSQL. While org B changes (real-time sync into People, pushes
of its persons into org A), a random worker is SIGKILLed and restarted 20 times. In the end
People equals both orgs (nothing lost, no duplicated person, no duplicate Lead), and the job
log shows no step of an integration running in two workers at once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from peoplesync.workers.queue.plan import JobRun, overlaps
from tests.conftest import POSTGRES_URL
from tests.e2e.queue_evidence import write_evidence
from tests.e2e.test_sync_crash import API
from tests.served_org import PEOPLESYNC, call, connect, enable_outbound, environment, login
from tests.served_org import served_org as org

KILLS = 20
CONVERGE = 90.0  # seconds for both orgs and People to agree after the last kill
FAST_QUEUE = {  # a queue that hands jobs over and finds dead workers within seconds
    "PEOPLESYNC_WORKER_HOLD": "3",
    "PEOPLESYNC_WORKER_HEARTBEAT": "0.5",
    "PEOPLESYNC_WORKER_STALLED_AFTER": "4",
    "PEOPLESYNC_WORKER_RECOVER_CRON": "* * * * * *",
    "PEOPLESYNC_WORKER_KEEP_CRON": "* * * * * */2",
    "PEOPLESYNC_WORKER_SYNC_INTERVAL": "1",
    "PEOPLESYNC_WORKER_RECONCILE_EVERY": "1",
    "PEOPLESYNC_WORKER_PUSH_INTERVAL": "0.5",
}


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def own_database() -> Iterator[str]:
    """A new PostgreSQL database for this test (SQLAlchemy URL); fails on CI when the server
    is unreachable, skips elsewhere."""
    name = f"queue_e2e_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(libpq(POSTGRES_URL), autocommit=True)
    except psycopg.OperationalError as error:
        message = f"PostgreSQL is unreachable at {POSTGRES_URL}: {error}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq(POSTGRES_URL), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def leads(info: dict[str, Any], token: str) -> dict[str, dict[str, Any]]:
    query = urllib.parse.quote("SELECT Id, Email, City FROM Lead")
    body = call(info, f"{API}/query?q={query}", token)
    records = list(body["records"])
    while body.get("nextRecordsUrl"):
        body = call(info, body["nextRecordsUrl"], token)
        records += body["records"]
    return {r["Id"]: r for r in records}


def links(db: psycopg.Connection[Any], integration: str) -> dict[str, str]:
    rows = db.execute(
        "SELECT external_id, entity_id FROM external_links WHERE system = %s AND object = 'Lead'",
        (f"salesforce:{integration}",),
    ).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def differences(db_url: str, a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """What still differs between People and the two orgs (empty when they agree)."""
    in_a, in_b = leads(a, login(a)), leads(b, login(b))
    with psycopg.connect(libpq(db_url)) as db:
        linked_a, linked_b = links(db, "a"), links(db, "b")
        persons = {str(r[0]): r[1] for r in db.execute("SELECT id, city FROM persons").fetchall()}
    found = []
    if set(linked_b) != set(in_b):
        found.append(f"org B leads {len(in_b)} vs linked {len(linked_b)}")
    if set(linked_a) != set(in_a):
        found.append(f"org A leads {len(in_a)} vs linked {len(linked_a)}")
    if set(linked_a.values()) != set(persons) or len(linked_a) != len(persons):
        found.append(f"{len(persons)} persons vs {len(linked_a)} org A leads")
    emails_a = [str(r["Email"] or "").lower() for r in in_a.values()]
    duplicated = {e for e in emails_a if e and emails_a.count(e) > 1}
    if duplicated:
        found.append(f"duplicate Leads in org A: {sorted(duplicated)[:5]}")
    for lead_id, record in in_b.items():
        person = linked_b.get(lead_id)
        if person is not None and persons.get(person) != record["City"]:
            found.append(f"city of {lead_id}: {record['City']} vs {persons.get(person)}")
            break
    return found


def unrecovered(db_url: str) -> list[str]:
    """Jobs still held by dead workers (heart stopped): the others have not taken them yet."""
    with psycopg.connect(libpq(db_url)) as db:
        rows = db.execute(
            "SELECT j.id, j.task_name FROM procrastinate_jobs j "
            "LEFT JOIN procrastinate_workers w ON w.id = j.worker_id WHERE j.status = 'doing' "
            "AND (w.id IS NULL OR w.last_heartbeat < now() - interval '2 seconds')"
        ).fetchall()
    return [f"job {r[0]} ({r[1]}) held by a dead worker" for r in rows]


def job_runs(db_url: str) -> list[JobRun]:
    with psycopg.connect(libpq(db_url)) as db:
        rows = db.execute(
            "SELECT job_id, task, integration, step, worker, started_at, ended_at, outcome "
            "FROM worker_job_runs"
        ).fetchall()
    return [JobRun(*row) for row in rows]


def queue_state(db_url: str) -> list[tuple[Any, ...]]:
    """The queue's jobs by task, status and lock (for failure messages)."""
    with psycopg.connect(libpq(db_url)) as db:
        return db.execute(
            "SELECT task_name, status, lock, worker_id IS NULL, count(*) FROM procrastinate_jobs "
            "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3"
        ).fetchall()


def test_workers_killed_at_random_lose_duplicate_and_overlap_nothing(tmp_path: Path) -> None:
    rng = random.Random(13)
    with (
        own_database() as db_url,
        org(tmp_path / "org_a", "--seed-leads", "30", "--seed", "31") as a,
        org(tmp_path / "org_b", "--seed-leads", "30", "--seed", "32") as b,
    ):
        people = tmp_path / "people"
        env = {**environment(a, people), "PEOPLESYNC_DATABASE_URL": db_url, **FAST_QUEUE}
        connect(a, env, "--name", "a")
        connect(b, {**environment(b, people), "PEOPLESYNC_DATABASE_URL": db_url}, "--name", "b")
        enable_outbound(env, "--name", "a")  # org B's persons become Leads in org A

        incarnations: list[Path] = []

        def start(i: int) -> tuple[subprocess.Popen[bytes], Path]:
            log = tmp_path / f"worker{i}-{len(incarnations)}.log"
            incarnations.append(log)
            with log.open("w") as out:
                process = subprocess.Popen(
                    [*PEOPLESYNC, "worker", "--concurrency", "4", "--log-format", "json"],
                    stdout=out,
                    stderr=out,
                    env=env,
                )
            return process, log

        def working(log: Path) -> bool:
            """Whether the worker got as far as taking jobs."""
            return "Starting job" in log.read_text()

        started = [start(i) for i in range(3)]
        workers = [process for process, _ in started]
        worker_logs = [log for _, log in started]
        token = login(b)
        made = 0
        try:
            for _ in range(KILLS):  # org B changes while workers die
                deadline = time.monotonic() + rng.uniform(1.0, 2.0)
                while time.monotonic() < deadline:
                    lead = rng.choice(list(leads(b, token)))
                    if rng.random() < 0.7:
                        body = {"City": f"City {rng.randrange(10_000)}"}
                        call(b, f"{API}/sobjects/Lead/{lead}", token, method="PATCH", body=body)
                    else:
                        made += 1
                        body = {
                            "LastName": f"Queued {made}",
                            "Company": "Queue Ltd",
                            "Email": f"queued{made}.{rng.randrange(10**9)}@queue.example",
                        }
                        call(b, f"{API}/sobjects/Lead", token, method="POST", body=body)
                    time.sleep(rng.uniform(0.05, 0.2))
                # A worker that took jobs (starting takes seconds on a busy machine).
                grown = [i for i in range(3) if working(worker_logs[i])]
                while not grown:
                    time.sleep(0.2)
                    grown = [i for i in range(3) if working(worker_logs[i])]
                victim = rng.choice(grown)
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait()
                workers[victim], worker_logs[victim] = start(victim)
            deadline = time.monotonic() + CONVERGE
            found = differences(db_url, a, b) + unrecovered(db_url)
            while found and time.monotonic() < deadline:
                time.sleep(1.0)
                found = differences(db_url, a, b) + unrecovered(db_url)
            if found:
                orgs = {"a": (a, tmp_path / "org_a"), "b": (b, tmp_path / "org_b")}
                evidence = tmp_path / "evidence.json"
                write_evidence(evidence, db_url, orgs, found, incarnations)
                print(f"evidence of the failure: {evidence}")
                found.append(f"evidence in {evidence}")
            assert found == [], found
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
        runs = job_runs(db_url)
        assert overlaps(runs, datetime.now(UTC)) == []
        steps = {(r.integration, r.step) for r in runs}
        assert steps >= {("a", "inbound"), ("a", "push"), ("b", "inbound")}
        assert ("b", "push") not in steps  # no outbound step enabled: no push loop to hold
        outcomes = Counter(r.outcome for r in runs)
        assert outcomes["stalled"] > 0, (
            outcomes,
            queue_state(db_url),
        )  # dead workers' jobs ran again
        assert len({r.worker for r in runs}) > 3  # restarted workers took jobs too
