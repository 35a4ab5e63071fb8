"""Crash consistency: a failure or a SIGKILL mid-batch leaves store and change log consistent."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.people import tables as t
from peoplesync.people.change_log import ChangeWriter
from peoplesync.people.model import PersonInput
from peoplesync.people.sql_store import SqlPeopleStore

WRITER = Path(__file__).with_name("crash_writer.py")


async def assert_consistent(engine: AsyncEngine) -> tuple[int, int]:
    """Every person has one create entry and all its rows; no entry lacks its person."""
    async with engine.connect() as conn:
        persons = set((await conn.execute(sa.select(t.persons.c.id))).scalars())
        creates = list(
            (
                await conn.execute(
                    sa.select(t.change_log.c.entity_id).where(t.change_log.c.operation == "create")
                )
            ).scalars()
        )
        email_owners = list((await conn.execute(sa.select(t.person_emails.c.person_id))).scalars())
        phone_owners = list((await conn.execute(sa.select(t.person_phones.c.person_id))).scalars())
    assert len(creates) == len(set(creates)), "a person was created twice"
    assert set(creates) == persons, "change log and persons disagree"
    assert sorted(email_owners) == sorted([p for p in persons for _ in range(2)])
    assert sorted(phone_owners) == sorted(persons)
    return len(persons), len(creates)


async def test_failure_mid_batch_rolls_back_everything(
    store: SqlPeopleStore, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.upsert_persons(
        [PersonInput(emails=["before@example.com", "b2@example.com"], phones=["+14155550100"])],
        origin="t",
    )

    async def explode(self: ChangeWriter, drafts: object, entity_type: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(ChangeWriter, "write", explode)
    inputs = [PersonInput(emails=[f"x{i}@example.com"]) for i in range(30)]
    with pytest.raises(RuntimeError, match="power cut"):
        await store.upsert_persons(inputs, origin="t")
    monkeypatch.undo()
    assert await store.count_persons() == 1
    assert await assert_consistent(engine) == (1, 1)


async def test_sigkill_during_bulk_upsert_resumes_without_loss_or_duplicates(
    database_url: str, engine: AsyncEngine
) -> None:
    total, batch = 3000, 250
    rng = random.Random(7)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    kills = 0
    for _ in range(6):
        writer = subprocess.Popen(
            [sys.executable, str(WRITER), database_url, str(total), str(batch)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert writer.stdout is not None
        writer.stdout.readline()  # at least one batch committed in this run
        time.sleep(rng.uniform(0.0, 0.25))  # then die somewhere inside a later batch
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        kills += 1
        await assert_consistent(engine)
    finish = subprocess.run(
        [sys.executable, str(WRITER), database_url, str(total), str(batch)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    assert finish.stdout.strip().endswith("done")
    assert kills == 6
    assert await assert_consistent(engine) == (total, total)
    store = SqlPeopleStore(engine, __import__("peoplesync.clock").clock.SystemClock())
    found = await store.find_by_emails([f"P{i}@example.com" for i in range(total)])
    assert len(found) == total
