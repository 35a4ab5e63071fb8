"""The job log: where and when each queue job ran (job id, task, integration, step,
worker, start, end, outcome), on the People database."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import Clock
from peoplesync.people.job_tables import job_runs
from peoplesync.workers.queue.plan import JobRun

STALLED = "stalled"  # the worker died; another worker runs the job again


class JobLog:
    """Writes and reads the job log."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    async def started(
        self, job_id: int, task: str, integration: str, step: str, worker: str
    ) -> int:
        """Record that ``worker`` started the job; returns the run's row id."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                sa.insert(job_runs)
                .values(
                    job_id=job_id,
                    task=task,
                    integration=integration,
                    step=step,
                    worker=worker,
                    started_at=self.clock.now(),
                )
                .returning(job_runs.c.id)
            )
            return int(result.scalar_one())

    async def ended(self, run_id: int, outcome: str, detail: str = "") -> None:
        """Record how a run ended (first end wins: a stalled mark stays)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                sa.update(job_runs)
                .where(job_runs.c.id == run_id, job_runs.c.ended_at.is_(None))
                .values(ended_at=self.clock.now(), outcome=outcome, detail=detail[:2000])
            )

    async def stalled(self, job_id: int) -> int:
        """End the open runs of a job whose worker died (before the job runs again)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                sa.update(job_runs)
                .where(job_runs.c.job_id == job_id, job_runs.c.ended_at.is_(None))
                .values(ended_at=self.clock.now(), outcome=STALLED)
            )
            return int(result.rowcount)

    async def runs(self, integration: str | None = None) -> list[JobRun]:
        """Every logged run (of ``integration``), oldest first."""
        query = sa.select(job_runs).order_by(job_runs.c.started_at, job_runs.c.id)
        if integration is not None:
            query = query.where(job_runs.c.integration == integration)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            JobRun(
                job_id=int(r["job_id"]),
                task=r["task"],
                integration=r["integration"],
                step=r["step"],
                worker=r["worker"],
                started=r["started_at"],
                ended=r["ended_at"],
                outcome=r["outcome"],
            )
            for r in rows
        ]

    async def forget_before(self, moment: datetime) -> int:
        """Drop the runs that ended before ``moment`` (log retention)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(sa.delete(job_runs).where(job_runs.c.ended_at < moment))
            return int(result.rowcount)
