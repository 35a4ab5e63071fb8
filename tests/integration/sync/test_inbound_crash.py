"""SIGKILL the inbound sync at random points; in the end People matches a run that never crashed."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from peoplesync.people.database import create_engine
from tests.served_org import served_org

WORKER = Path(__file__).with_name("inbound_worker.py")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with served_org(
        tmp_path / "org", "--seed-leads", "600", "--seed-contacts", "50", "--seed", "9"
    ) as info:
        yield info


def run(
    info: dict[str, Any], url: str, *, kill_after: float | None = None, bulk: bool = False
) -> bool:
    """Run the worker; with ``kill_after`` SIGKILL it then. True when the kill hit it mid-run."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    worker = subprocess.Popen(
        [sys.executable, str(WORKER), json.dumps(info), url, "40", *(["1"] if bulk else [])],
        stdout=subprocess.DEVNULL,
        env=env,
    )
    if kill_after is None:
        assert worker.wait(timeout=300) == 0
        return False
    time.sleep(kill_after)
    running = worker.poll() is None
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    return running


async def picture(url: str) -> tuple[int, dict[str, tuple[str, ...]]]:
    """How many persons, and for every linked lead, its person's emails and names."""
    engine = create_engine(url)
    async with engine.connect() as conn:
        persons = await conn.scalar(sa.text("SELECT COUNT(*) FROM persons"))
        rows = (
            await conn.execute(
                sa.text(
                    "SELECT l.external_id, p.first_name, p.last_name, p.company, "
                    "(SELECT group_concat(e.email_key) FROM person_emails e WHERE e.person_id = p.id) "
                    "FROM external_links l JOIN persons p ON p.id = l.entity_id WHERE l.object = 'Lead'"
                )
            )
        ).all()
    await engine.dispose()
    return int(persons or 0), {r[0]: tuple(str(v) for v in r[1:]) for r in rows}


@pytest.mark.parametrize("bulk", [False, True], ids=["rest", "bulk"])
async def test_kills_during_initial_transfer_lose_and_duplicate_nothing(
    served: dict[str, Any], tmp_path: Path, bulk: bool
) -> None:
    reference = f"sqlite+aiosqlite:///{tmp_path / 'reference.db'}"
    crashed = f"sqlite+aiosqlite:///{tmp_path / 'crashed.db'}"
    started = time.perf_counter()
    # The reference takes the same path: of leads sharing an email, the first read is linked,
    # and a bulk job's order is not REST's (SystemModstamp, Id).
    run(served, reference, bulk=bulk)
    duration = time.perf_counter() - started
    rng = random.Random(4)
    hits = attempts = 0
    while hits < 6 and attempts < 15:  # a kill may land after a run finished: try again
        hits += run(served, crashed, kill_after=rng.uniform(0.3, 0.9) * duration, bulk=bulk)
        attempts += 1
    run(served, crashed, bulk=bulk)
    assert hits == 6
    expected = await picture(reference)
    actual = await picture(crashed)
    assert expected[0] > 500
    assert actual == expected
