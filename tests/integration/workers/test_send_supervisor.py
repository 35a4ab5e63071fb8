"""The message-send loop ``peoplesync serve`` keeps beside the sync workers, with stand-in
loops: started with the workers, started again after a failure, told of refused keys,
beating for /metrics, and stopped with the workers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from peoplesync.clock import ManualClock
from peoplesync.messaging.sender import SendRound
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.settings import Settings
from peoplesync.sync.status.store import StatusStore
from peoplesync.workers.events import EventSink, PassDone
from peoplesync.workers.outcome import Finished, Outcome
from peoplesync.workers.supervisor import SENDS, SyncWorkers

PATIENCE = 60.0  # seconds a condition may take on a loaded machine before the test fails


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(int(PATIENCE / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the send loop never got there")


class StandInSends:
    """A send loop whose first ``failures`` runs raise; later runs tell one round (an
    account whose key is refused) and go on until stopped."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.starts = 0
        self.stopped_cleanly = False

    async def __call__(self, stop: asyncio.Event, events: EventSink) -> Outcome:
        self.starts += 1
        if self.starts <= self.failures:
            raise RuntimeError(f"provider down {self.starts}")
        events(PassDone(SendRound(claimed=2, accepted=1, retried=1, stopped=["bad"])))
        await stop.wait()
        self.stopped_cleanly = True
        return Finished({"claimed": 2})


async def test_the_send_loop_is_started_again_after_failures_and_stopped_cleanly(
    store: SqlPeopleStore, clock: ManualClock
) -> None:
    said: list[str] = []
    sends = StandInSends(failures=2)
    workers = SyncWorkers(
        Settings(),
        store,
        StatusStore(store.engine, clock),
        say=said.append,
        clock=clock,
        check_every=0.01,
        sends=sends,
    )
    await workers.start()
    try:
        await _until(lambda: sends.starts == 3 and any("refused" in s for s in said))
        failed = [s for s in said if "send worker failed" in s]
        assert failed == [
            f"{SENDS}: send worker failed: RuntimeError: provider down 1",
            f"{SENDS}: send worker failed: RuntimeError: provider down 2",
        ]
        assert f"{SENDS}: sent 1, rejected 0" in said
        assert f"{SENDS}: provider account 'bad' refused its key; others go on" in said
        assert [(b.integration, b.loop) for b in workers.heartbeats.beats()] == [(SENDS, "send")]
    finally:
        await workers.stop()
    assert sends.stopped_cleanly
    assert sends.starts == 3


async def test_without_a_send_loop_nothing_is_sent(
    store: SqlPeopleStore, clock: ManualClock
) -> None:
    workers = SyncWorkers(
        Settings(),
        store,
        StatusStore(store.engine, clock),
        say=lambda _: None,
        clock=clock,
        check_every=0.01,
    )
    await workers.start()
    await workers.stop()
    assert workers.heartbeats.beats() == []
