"""The queue's tasks on procrastinate's in-memory connector, with the job log on SQLite and
a recording twin of the passes: what gets queued, what runs, what the log keeps, and how a
dead worker's job runs again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from procrastinate import App
from procrastinate.jobs import Status
from procrastinate.testing import InMemoryConnector

from peoplesync.clock import SystemClock
from peoplesync.people.database import create_engine, migrate
from peoplesync.settings import Settings
from peoplesync.workers.queue.app import always_my_turn, memory_queue_app
from peoplesync.workers.queue.job_log import STALLED, JobLog
from peoplesync.workers.queue.passes import PassOutcome, PassResult
from peoplesync.workers.queue.plan import MESSAGING
from peoplesync.workers.queue.tasks import (
    QueueServices,
    keep_queued,
    recover_stalled,
    register_tasks,
)


class RecordingPasses:
    """Passes that only record what they were asked (gate answers set by the test)."""

    def __init__(self, runnable: dict[str, bool]) -> None:
        self.gates = runnable
        self.calls: list[tuple[str, str, float | None]] = []
        self.runs_left = 1_000  # passes allowed before the gate refuses (a pause)
        self.without_push: set[str] = set()  # integrations with no enabled outbound step

    async def runnable(self) -> dict[str, bool]:
        return dict(self.gates)

    async def interrupted_transfers(self) -> dict[str, str]:
        return {}

    async def pushing(self) -> set[str]:
        return set(self.gates) - self.without_push

    def _answer(self, name: str) -> PassResult:
        self.runs_left -= 1
        if self.runs_left < 0:
            self.gates[name] = False
        return PassResult(PassOutcome.DONE if self.gates.get(name) else PassOutcome.REFUSED)

    async def inbound(self, name: str, hold: float | None) -> PassResult:
        self.calls.append(("inbound", name, hold))
        return self._answer(name)

    async def push(self, name: str, hold: float | None) -> PassResult:
        self.calls.append(("push", name, hold))
        return self._answer(name)

    async def transfer(self, job_id: str) -> PassResult:
        self.calls.append(("transfer", job_id, None))
        return PassResult(PassOutcome.NOTHING)

    async def sends(self, hold: float) -> PassResult:
        """The first send job holds its time; later ones find nothing (the test ends)."""
        self.calls.append(("sends", MESSAGING, hold))
        first = sum(call[0] == "sends" for call in self.calls) == 1
        return PassResult(PassOutcome.DONE if first else PassOutcome.NOTHING)

    async def business_units(self) -> list[str]:
        return []

    async def reports(self, unit: str) -> PassResult:
        self.calls.append(("reports", unit, None))
        return PassResult(PassOutcome.NOTHING)


@pytest.fixture
async def job_log(tmp_path: Path) -> AsyncIterator[JobLog]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'people.db'}")
    await migrate(engine)
    yield JobLog(engine, SystemClock())
    await engine.dispose()


def queue(passes: RecordingPasses, job_log: JobLog) -> App:
    app = memory_queue_app()
    never = "0 0 1 1 *"  # periodic jobs stay out of the way (New Year's midnight only)
    settings = Settings(
        data_dir=Path("unused"),
        worker_hold=7.0,
        worker_keep_cron=never,
        worker_reconcile_cron=never,
        worker_recover_cron=never,
        worker_mc_sync_cron=never,
    )
    services = QueueServices(settings, passes, job_log, SystemClock(), "host:1", always_my_turn)
    register_tasks(app, services)
    return app


def jobs(app: App) -> list[dict[str, object]]:
    connector = app.connector
    assert isinstance(connector, InMemoryConnector)
    return sorted(connector.jobs.values(), key=lambda j: int(str(j["id"])))


async def run_queued(app: App) -> None:
    """Run every job now due, then stop."""
    await app.run_worker_async(wait=False, install_signal_handlers=False, listen_notify=False)


async def test_runnable_integrations_get_one_waiting_stream_and_push_job(job_log: JobLog) -> None:
    passes = RecordingPasses({"a": True, "b": False})
    app = queue(passes, job_log)
    async with app.open_async():
        first = await keep_queued(app, passes)
        again = await keep_queued(app, passes)
        queued = [(j["task_name"], j["lock"], j["args"]) for j in jobs(app)]
    assert [(r.kind.value, r.integration) for r in first] == [
        ("sends", MESSAGING),
        ("stream", "a"),
        ("push", "a"),
    ]
    assert again == []  # already waiting: the queueing lock keeps one
    assert queued == [
        ("peoplesync.sends", f"{MESSAGING}:sends", {"integration": MESSAGING}),
        ("peoplesync.stream", "a:inbound", {"integration": "a"}),
        ("peoplesync.push", "a:push", {"integration": "a"}),
    ]


async def test_an_integration_without_outbound_steps_gets_no_push_job(job_log: JobLog) -> None:
    passes = RecordingPasses({"a": True, "b": True})
    passes.without_push = {"a"}
    passes.runs_left = 3  # the first jobs run; their successors are refused
    app = queue(passes, job_log)
    async with app.open_async():
        queued = await keep_queued(app, passes)
        await run_queued(app)
    assert [(r.kind.value, r.integration) for r in queued] == [
        ("sends", MESSAGING),
        ("stream", "a"),
        ("stream", "b"),
        ("push", "b"),
    ]
    assert ("push", "a", 7.0) not in passes.calls
    assert ("push", "b", 7.0) in passes.calls


async def test_a_held_job_runs_logs_and_hands_over_to_a_new_job(job_log: JobLog) -> None:
    passes = RecordingPasses({"a": True})
    passes.runs_left = 2  # the first stream and push jobs run; their successors are refused
    app = queue(passes, job_log)
    async with app.open_async():
        await keep_queued(app, passes)
        await run_queued(app)
        finished = [(j["task_name"], j["status"]) for j in jobs(app)]
    assert (
        sorted(passes.calls)
        == [("inbound", "a", 7.0)] * 2 + [("push", "a", 7.0)] * 2 + [("sends", MESSAGING, 7.0)] * 2
    )
    runs = await job_log.runs("a")
    assert sorted((r.task, r.step, r.worker, r.outcome) for r in runs) == [
        ("peoplesync.push", "push", "host:1", "done"),
        ("peoplesync.push", "push", "host:1", "refused"),
        ("peoplesync.stream", "inbound", "host:1", "done"),
        ("peoplesync.stream", "inbound", "host:1", "refused"),
    ]
    assert all(r.ended is not None and r.ended >= r.started for r in runs)
    # Each job that held its time queued its successor; the refused successors queued none.
    assert (
        sorted(finished)
        == [("peoplesync.push", "succeeded")] * 2
        + [("peoplesync.sends", "succeeded")] * 2
        + [("peoplesync.stream", "succeeded")] * 2
    )
    sent = await job_log.runs(MESSAGING)
    assert sorted((r.task, r.step, r.outcome) for r in sent) == [
        ("peoplesync.sends", "sends", "done"),
        ("peoplesync.sends", "sends", "nothing"),
    ]


async def test_one_send_job_runs_at_a_time_per_deployment(job_log: JobLog) -> None:
    passes = RecordingPasses({})
    app = queue(passes, job_log)
    async with app.open_async():
        manager = app.job_manager
        await keep_queued(app, passes)
        worker = await manager.register_worker()
        holder = await manager.fetch_job(queues=None, worker_id=worker)
        assert holder is not None and holder.task_name == "peoplesync.sends"
        # The holder runs: keep queues a successor, which waits on the lock meanwhile.
        assert [r.kind.value for r in await keep_queued(app, passes)] == ["sends"]
        assert await manager.fetch_job(queues=None, worker_id=worker) is None
        assert holder.id is not None
        await manager.finish_job_by_id_async(holder.id, Status.SUCCEEDED, delete_job=False)
        successor = await manager.fetch_job(queues=None, worker_id=worker)
    assert successor is not None and successor.task_name == "peoplesync.sends"
    assert successor.lock == holder.lock == f"{MESSAGING}:sends"


async def test_a_refused_integration_is_not_queued_again(job_log: JobLog) -> None:
    passes = RecordingPasses({"a": True})
    app = queue(passes, job_log)
    async with app.open_async():
        await keep_queued(app, passes)
        passes.gates["a"] = False  # paused after its jobs were queued
        await run_queued(app)
        left = [j for j in jobs(app) if j["status"] == "todo"]
    assert left == []
    assert {r.outcome for r in await job_log.runs("a")} == {"refused"}


async def test_a_dead_workers_job_is_ended_in_the_log_and_runs_again(job_log: JobLog) -> None:
    passes = RecordingPasses({"a": True})
    app = queue(passes, job_log)
    async with app.open_async():
        await keep_queued(app, passes)
        manager = app.job_manager
        dead = await manager.register_worker()
        job = await manager.fetch_job(queues=None, worker_id=dead)  # taken, then the worker died
        assert job is not None and job.id is not None
        await job_log.started(job.id, job.task_name, "a", "inbound", "dead:1")
        connector = app.connector
        assert isinstance(connector, InMemoryConnector)
        assert await recover_stalled(app, job_log, stalled_after=60) == []  # heart still beats
        connector.workers.pop(dead)  # no heartbeat any more
        assert await recover_stalled(app, job_log, stalled_after=60) == [job.id]
        status = await manager.get_job_status_async(job.id)
    assert status.value == "todo"
    (run,) = await job_log.runs("a")
    assert run.outcome == STALLED and run.ended is not None
