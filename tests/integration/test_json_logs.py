"""Structured logs: JSON lines carrying the integration and job id of the run they belong to."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from peoplesync.observability.log_format import (
    JsonFormatter,
    configure_logging,
    current_context,
    log_context,
)
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.settings import Settings
from peoplesync.sync.status.store import StatusStore
from peoplesync.workers.supervisor import SyncWorkers
from tests.sqlite_threads import sqlite_threads_joined


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """Root logging as JSON into a buffer, put back as it was afterwards."""
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    buffer = io.StringIO()
    configure_logging("json", "INFO", stream=buffer)
    yield buffer
    root.handlers[:] = before[0]
    root.setLevel(before[1])


def records(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line]


async def test_context_reaches_records_of_tasks_started_inside_it(lines: io.StringIO) -> None:
    log = logging.getLogger("peoplesync.test")

    async def work() -> None:
        log.info("inside %s", "the task", extra={"records": 3})

    with log_context(integration="acme"), log_context(job="push-1"):
        await asyncio.create_task(work())
    log.warning("outside")
    try:
        raise ValueError("bad value")
    except ValueError:
        log.exception("failed")
    inside, outside, failed = records(lines)
    assert inside["message"] == "inside the task"
    assert (inside["integration"], inside["job"], inside["records"]) == ("acme", "push-1", 3)
    assert inside["level"] == "info"
    assert inside["logger"] == "peoplesync.test"
    assert "integration" not in outside
    assert "job" not in outside
    assert outside["level"] == "warning"
    assert "ValueError: bad value" in str(failed["error"])


def test_the_formatter_writes_one_json_object_a_line() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "two\nlines", None, None)
    text = JsonFormatter().format(record)
    assert "\n" not in text
    assert json.loads(text)["message"] == "two\nlines"


async def test_every_record_of_a_worker_run_names_integration_and_job(
    lines: io.StringIO, store: SqlPeopleStore, tmp_path: Path
) -> None:
    # An integration whose stored settings cannot open a client: both loops start and stop
    # with an error, said inside their run.
    await store.set_state("integration:acme", {"name": "acme"})
    log = logging.getLogger("peoplesync.serve")
    both = asyncio.Event()
    loops: set[str] = set()

    def say(message: str) -> None:
        log.info(message)
        loops.add(current_context().get("loop", "none"))
        if {"sync", "push"} <= loops:
            both.set()

    workers = SyncWorkers(
        Settings(data_dir=tmp_path),
        store,
        StatusStore(store.engine, store.clock),
        say=say,
        check_every=60,
    )
    async with sqlite_threads_joined():
        await workers.start()
        try:
            await asyncio.wait_for(both.wait(), 60)
        finally:
            await workers.stop()
            await store.engine.dispose()  # closes the connections the loops opened
    said = [r for r in records(lines) if str(r["message"]).startswith("acme: ")]
    assert {r["loop"] for r in said} == {"sync", "push"}
    jobs = set()
    for record in said:
        assert record["integration"] == "acme", record
        assert str(record["job"]).startswith(f"{record['loop']}-"), record
        jobs.add(record["job"])
    assert len(jobs) == 2  # the sync run and the push run, one job id each
