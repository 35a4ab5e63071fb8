"""SIGKILL the push at random points, at least 20 times mid-run; in the end every person is
one Lead, none twice."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from peoplesync.clock import SystemClock
from peoplesync.people.database import create_engine, migrate
from peoplesync.people.model import PersonInput
from peoplesync.people.sql_store import SqlPeopleStore
from tests.served_org import call, login, served_org

WORKER = Path(__file__).with_name("outbound_worker.py")
PERSONS = 1200
KILLS = 20  # kills that land while a push runs
TOP_UP = 150  # persons added before each kill, so every run has work to be killed in


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with served_org(tmp_path / "org", "--seed", "5") as info:
        yield info


def run(info: dict[str, Any], url: str, *, kill_after: float | None = None) -> float:
    """Run the worker; with ``kill_after`` (seconds after it started pushing) SIGKILL it then.
    Returns how long the push ran, or 0 when the kill landed after it had finished."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    worker = subprocess.Popen(
        [sys.executable, str(WORKER), json.dumps(info), url, "40"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert worker.stdout is not None
    with worker.stdout:
        assert worker.stdout.readline().strip() == "started"
        started = time.perf_counter()
        if kill_after is None:
            assert worker.wait(timeout=300) == 0
            return time.perf_counter() - started
        time.sleep(kill_after)
        running = worker.poll() is None
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    return kill_after if running else 0.0


async def people(url: str, prefix: str, start: int = 0, count: int = PERSONS) -> None:
    engine = create_engine(url)
    await migrate(engine)
    store = SqlPeopleStore(engine, SystemClock())
    await store.upsert_persons(
        [
            PersonInput(
                values={"last_name": f"Person {i}", "company": f"Company {i % 7}"},
                emails=[f"{prefix}{i}@crash.example"],
            )
            for i in range(start, start + count)
        ],
        origin="import",
    )
    await engine.dispose()


async def lead_links(url: str) -> list[str]:
    engine = create_engine(url)
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT external_id FROM external_links WHERE object = 'Lead'")
        )
        found = [str(r[0]) for r in rows]
    await engine.dispose()
    return found


def leads(info: dict[str, Any]) -> list[dict[str, Any]]:
    token = login(info)
    query = urllib.parse.quote("SELECT Id, Email FROM Lead")
    body = call(info, f"/services/data/v59.0/query?q={query}", token)
    records: list[dict[str, Any]] = body["records"]
    while body.get("nextRecordsUrl"):
        body = call(info, body["nextRecordsUrl"], token)
        records += body["records"]
    return records


async def test_kills_during_a_push_lose_and_duplicate_nothing(
    served: dict[str, Any], tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'people.db'}"
    await people(url, "person")
    # A clean push of other persons into the same org measures how long a push takes.
    probe = f"sqlite+aiosqlite:///{tmp_path / 'probe.db'}"
    await people(probe, "probe")
    duration = run(served, probe)
    rng = random.Random(7)
    total, hits, attempts = PERSONS, 0, 0
    # A kill may land after the push finished: try again until KILLS landed mid-run. New
    # persons before each attempt keep the remaining work near a full push.
    while hits < KILLS and attempts < 3 * KILLS:
        hits += run(served, url, kill_after=rng.uniform(0.05, 0.6) * duration) > 0
        attempts += 1
        await people(url, "person", total, TOP_UP)
        total += TOP_UP
    run(served, url)
    assert hits >= KILLS
    found = [r for r in leads(served) if str(r["Email"]).startswith("person")]
    emails = [str(r["Email"]).lower() for r in found]
    assert len(emails) == len(set(emails)) == total
    links = await lead_links(url)
    assert sorted(links) == sorted(r["Id"] for r in found)
