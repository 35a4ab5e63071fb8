"""Report write-back in ``peoplesync worker``'s queue: the periodic job queues one write-back
job per business unit, with its locks (one waiting and one running per unit); a worker runs
it against the Marketing Cloud sandbox (ASGI) and the job log keeps the run. On procrastinate's
in-memory connector (SQLite) and on PostgreSQL's real queue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest
from procrastinate import App
from procrastinate.testing import InMemoryConnector

from peoplesync.clock import Clock, SystemClock
from peoplesync.people.database import create_engine, migrate
from peoplesync.settings import Settings
from peoplesync.workers.queue.app import (
    always_my_turn,
    apply_queue_schema,
    memory_queue_app,
    postgres_queue_app,
    queue_conninfo,
)
from peoplesync.workers.queue.job_log import JobLog
from peoplesync.workers.queue.passes import PassResult, report_result
from peoplesync.workers.queue.plan import Step
from peoplesync.workers.queue.tasks import QueueServices, queue_reports, register_tasks
from peoplesync.workers.report_sync import UnitPasses
from tests.integration.marketing_cloud.sandbox_unit import SandboxUnit
from tests.integration.workers.mc_units import (
    deployed_sandbox,
    passes_on,
    seed,
    stored,
    unit_settings,
)

NEVER = "0 0 1 1 *"  # periodic jobs stay out of the way (New Year's midnight only)


class ReportPasses:
    """The queue's passes with write-back the real one (the integrations' are never asked)."""

    def __init__(self, units: UnitPasses) -> None:
        self.units = units

    async def runnable(self) -> dict[str, bool]:
        return {}

    async def interrupted_transfers(self) -> dict[str, str]:
        return {}

    async def inbound(self, name: str, hold: float | None) -> PassResult:
        raise AssertionError("no integration here")

    async def push(self, name: str, hold: float | None) -> PassResult:
        raise AssertionError("no integration here")

    async def transfer(self, job_id: str) -> PassResult:
        raise AssertionError("no transfer here")

    async def sends(self, hold: float) -> PassResult:
        raise AssertionError("no sends here")

    async def business_units(self) -> list[str]:
        return await self.units.names()

    async def reports(self, unit: str) -> PassResult:
        return report_result(unit, await self.units.run(unit))


def register(app: App, passes: ReportPasses, job_log: JobLog, settings: Settings) -> None:
    clock: Clock = SystemClock()
    services = QueueServices(settings, passes, job_log, clock, "host:1", always_my_turn)
    register_tasks(app, services)


def quiet(data_dir: Path, **more: str) -> Settings:
    return Settings(
        data_dir=data_dir,
        worker_keep_cron=NEVER,
        worker_reconcile_cron=NEVER,
        worker_recover_cron=NEVER,
        worker_mc_sync_cron=NEVER,
        **more,  # type: ignore[arg-type]
    )


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[SandboxUnit]:
    async with deployed_sandbox(tmp_path / "mc") as unit:
        yield unit


async def test_one_job_per_unit_runs_the_pass_and_is_logged(
    tmp_path: Path, sandbox: SandboxUnit
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'people.db'}")

    await migrate(engine)
    clock = SystemClock()
    units = passes_on(engine, clock, sandbox, by="worker")
    await units.units.add(unit_settings())
    await units.units.add(unit_settings("beta", mid="510000043"))
    await seed(engine, "m1", "m2")
    passes = ReportPasses(units)
    job_log = JobLog(engine, clock)
    app = memory_queue_app()
    register(app, passes, job_log, quiet(tmp_path))
    try:
        async with app.open_async():
            assert await queue_reports(app, passes) == 2
            assert await queue_reports(app, passes) == 0  # one waits per unit already
            connector = app.connector
            assert isinstance(connector, InMemoryConnector)
            queued = sorted(
                (job["task_name"], job["lock"], job["queueing_lock"], job["args"]["integration"])
                for job in connector.jobs.values()
            )
            assert queued == [
                ("peoplesync.mc_reports", "acme:mc_reports", "acme:mc_reports", "acme"),
                ("peoplesync.mc_reports", "beta:mc_reports", "beta:mc_reports", "beta"),
            ]
            await app.run_worker_async(
                wait=False, install_signal_handlers=False, listen_notify=False
            )
            assert await stored(sandbox) == {"m1", "m2"}
            runs = await job_log.runs()
            assert sorted((run.integration, run.step, run.outcome) for run in runs) == [
                ("acme", Step.REPORTS.value, "done"),
                ("beta", Step.REPORTS.value, "done"),
            ]
            last = await units.last.get("acme")
            assert last is not None and last.written["sms"] == 2 and last.by == "worker"
            assert await queue_reports(app, passes) == 2  # the next period queues them again
    finally:
        await engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_on_postgresql_one_job_waits_per_unit_and_a_worker_writes_it_back(
    database_url: str, tmp_path: Path, sandbox: SandboxUnit
) -> None:
    settings = quiet(tmp_path, database_url=database_url)
    await apply_queue_schema(settings)
    engine = create_engine(database_url)
    clock = SystemClock()
    units = passes_on(engine, clock, sandbox, by="worker")
    await units.units.add(unit_settings())
    await seed(engine, "m1")
    passes = ReportPasses(units)
    job_log = JobLog(engine, clock)
    app = postgres_queue_app(settings)
    register(app, passes, job_log, settings)
    try:
        async with app.open_async():
            assert await queue_reports(app, passes) == 1
            assert await queue_reports(app, passes) == 0  # the queueing lock holds one
            async with await psycopg.AsyncConnection.connect(queue_conninfo(settings)) as conn:
                rows = await (
                    await conn.execute(
                        "SELECT task_name, lock, queueing_lock, status FROM procrastinate_jobs"
                    )
                ).fetchall()
            assert rows == [("peoplesync.mc_reports", "acme:mc_reports", "acme:mc_reports", "todo")]
            await app.run_worker_async(
                wait=False, install_signal_handlers=False, listen_notify=False
            )
            assert await stored(sandbox) == {"m1"}
            runs = await job_log.runs("acme")
            assert [(run.step, run.outcome) for run in runs] == [(Step.REPORTS.value, "done")]
    finally:
        await engine.dispose()
