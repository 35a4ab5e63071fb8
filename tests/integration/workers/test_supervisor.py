"""The sync workers' supervisor on a real People database, with stand-in loops: it starts an
integration's loops, stops them when a person pauses it, starts them again on resume, starts
a loop again after it fails, and lets go of an integration that is deleted."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from peoplesync.clock import ManualClock
from peoplesync.errors import ConfigurationError
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.settings import Settings
from peoplesync.sync.integration import integration_key
from peoplesync.sync.status.state import paused, resumed
from peoplesync.sync.status.store import StatusStore
from peoplesync.workers.outcome import Failed, Idle, Outcome
from peoplesync.workers.supervisor import SyncWorkers

PATIENCE = 60.0  # seconds a condition may take on a loaded machine before the test fails


class StandInWorkers(SyncWorkers):
    """Inbound loops that run until cancelled (the first ``failures`` of them fail at once);
    push loops with nothing to do."""

    def __init__(self, *args: object, failures: int = 0, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.starts = 0
        self.failures = failures

    async def _inbound(self, name: str) -> Outcome:
        self.starts += 1
        if self.starts <= self.failures:
            return Failed(ConfigurationError(f"failure {self.starts}"))
        await asyncio.Event().wait()
        raise AssertionError("a following loop ends only when cancelled")

    async def _outbound(self, name: str) -> Outcome:
        return Idle("no outbound steps")


async def _until(condition: Callable[[], bool]) -> None:
    """Wait until ``condition`` holds; fail after PATIENCE (a hang, not a slow pass)."""
    for _ in range(int(PATIENCE / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the supervisor never got there")


def _workers(
    store: SqlPeopleStore, clock: ManualClock, said: list[str], **extra: int
) -> StandInWorkers:
    return StandInWorkers(
        Settings(),
        store,
        StatusStore(store.engine, clock),
        say=said.append,
        clock=clock,
        check_every=0.01,
        idle=0.01,
        **extra,
    )


async def test_pause_stops_the_loops_and_resume_starts_them_again(
    store: SqlPeopleStore, clock: ManualClock
) -> None:
    await store.set_state(integration_key("acme"), {"login_url": "https://login.example"})
    said: list[str] = []
    workers = _workers(store, clock, said)
    await workers.start()
    try:
        await _until(lambda: workers.starts == 1)
        assert workers.running() == ["acme"]

        await workers.statuses.transition("acme", lambda s: paused(s, clock.now()))
        workers.nudge()
        await _until(lambda: "acme: sync worker waits until the integration may run" in said)
        assert "acme: sync worker stopped (the integration may not run now)" in said
        assert workers.starts == 1  # nothing runs while paused

        await workers.statuses.transition("acme", lambda s: resumed(s, clock.now()))
        await _until(lambda: workers.starts == 2)
    finally:
        await workers.stop()
    assert workers.running() == []


async def test_a_failed_loop_is_started_again_and_a_deleted_integration_let_go(
    store: SqlPeopleStore, clock: ManualClock
) -> None:
    await store.set_state(integration_key("acme"), {"login_url": "https://login.example"})
    said: list[str] = []
    workers = _workers(store, clock, said, failures=2)
    await workers.start()
    try:
        await _until(lambda: workers.starts == 3)
        assert said.count("acme: sync worker stopped: failure 1") == 1
        assert "acme: sync worker stopped: failure 2" in said

        await workers.statuses.delete_integration("acme", "salesforce:acme")
        workers.nudge()
        await _until(lambda: "acme: the integration is gone; its sync worker stops" in said)
        await _until(lambda: workers.running() == [])
    finally:
        await workers.stop()
