"""Transfer jobs: a transfer, resync or retry started from the web, its options, live progress
and outcome, kept in the People database so a page reload (or another process) sees them.

A job is ``running`` while its process beats its heart; one whose heart stopped is shown as
``interrupted`` (its transfer resumes from its stored position when it runs again), then
``done`` or ``failed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import Clock
from peoplesync.people import tables as t
from peoplesync.people.model import new_id

STALE_AFTER = timedelta(seconds=30)
MAX_ERRORS = 50
KINDS = ("transfer", "resync", "retry")


@dataclass
class StepProgress:
    """One step of a job: records read, applied (created or updated), in all, rejected."""

    read: int = 0
    total: int = 0
    created: int = 0
    updated: int = 0
    rejected: int = 0
    done: bool = False

    def json(self) -> dict[str, Any]:
        """As stored."""
        return {
            "read": self.read,
            "total": self.total,
            "created": self.created,
            "updated": self.updated,
            "rejected": self.rejected,
            "done": self.done,
        }


@dataclass
class TransferJob:
    """A job as stored. ``options`` holds what the person asked for (``asked``) and the
    condition each step reads with (``conditions``, None for the step's own filter)."""

    id: str
    integration: str
    kind: str
    state: str
    options: dict[str, Any]
    steps: dict[str, StepProgress]
    errors: list[dict[str, Any]]
    message: str
    started_by: str
    started_at: datetime
    heartbeat_at: datetime
    finished_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def read(self) -> int:
        """Records read so far over every step."""
        return sum(s.read for s in self.steps.values())

    @property
    def applied(self) -> int:
        """Records created or updated so far."""
        return sum(s.created + s.updated for s in self.steps.values())

    @property
    def total(self) -> int:
        """Records to read over every step (known once each step's read starts)."""
        return sum(max(s.total, s.read) for s in self.steps.values())

    @property
    def rejected(self) -> int:
        """Records rejected so far."""
        return sum(s.rejected for s in self.steps.values())

    def shown_state(self, now: datetime) -> str:
        """The state to show: a running job whose heart stopped is ``interrupted``."""
        if self.state == "running" and now - self.heartbeat_at > STALE_AFTER:
            return "interrupted"
        return self.state

    def json(self, now: datetime) -> dict[str, Any]:
        """The job as the API returns it."""
        total = self.total
        return {
            "id": self.id,
            "integration": self.integration,
            "kind": self.kind,
            "state": self.shown_state(now),
            "asked": self.options.get("asked", {}),
            "read": self.read,
            "applied": self.applied,
            "rejected": self.rejected,
            "total": total,
            "percent": round(100 * self.read / total) if total else (100 if self.done else 0),
            "steps": {name: s.json() for name, s in self.steps.items()},
            "errors": self.errors,
            "message": self.message,
            "started_by": self.started_by,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }

    @property
    def done(self) -> bool:
        """Whether the job ended (done or failed)."""
        return self.state in ("done", "failed")


def _job(row: Any) -> TransferJob:
    return TransferJob(
        id=row.id,
        integration=row.integration,
        kind=row.kind,
        state=row.state,
        options=dict(row.options),
        steps={name: StepProgress(**value) for name, value in dict(row.progress).items()},
        errors=list(row.errors),
        message=row.message,
        started_by=row.started_by,
        started_at=row.started_at,
        heartbeat_at=row.heartbeat_at,
        finished_at=row.finished_at,
    )


class TransferJobStore:
    """Transfer jobs on the People store's engine."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    async def create(
        self,
        integration: str,
        kind: str,
        options: dict[str, Any],
        steps: list[str],
        started_by: str,
    ) -> TransferJob:
        """A new running job with empty progress for ``steps``."""
        now = self.clock.now()
        job = TransferJob(
            id=new_id(),
            integration=integration,
            kind=kind,
            state="running",
            options=options,
            steps={name: StepProgress() for name in steps},
            errors=[],
            message="",
            started_by=started_by,
            started_at=now,
            heartbeat_at=now,
        )
        async with self.engine.begin() as conn:
            await conn.execute(
                t.transfer_jobs.insert().values(
                    id=job.id,
                    integration=integration,
                    kind=kind,
                    state=job.state,
                    options=options,
                    progress={name: s.json() for name, s in job.steps.items()},
                    errors=[],
                    message="",
                    started_by=started_by,
                    started_at=now,
                    heartbeat_at=now,
                )
            )
        return job

    async def add_finished(self, job: TransferJob) -> None:
        """Keep a transfer that ran outside a job (the first pass of a step, ``sync
        transfer``) in the history, as it ended."""
        async with self.engine.begin() as conn:
            await conn.execute(
                t.transfer_jobs.insert().values(
                    id=job.id,
                    integration=job.integration,
                    kind=job.kind,
                    state=job.state,
                    options=job.options,
                    progress={name: s.json() for name, s in job.steps.items()},
                    errors=job.errors[:MAX_ERRORS],
                    message=job.message,
                    started_by=job.started_by,
                    started_at=job.started_at,
                    heartbeat_at=job.heartbeat_at,
                    finished_at=job.finished_at,
                )
            )

    async def save(self, job: TransferJob) -> None:
        """Write the job's progress, errors and state, and beat its heart."""
        job.heartbeat_at = self.clock.now()
        async with self.engine.begin() as conn:
            await conn.execute(
                t.transfer_jobs.update()
                .where(t.transfer_jobs.c.id == job.id)
                .values(
                    state=job.state,
                    progress={name: s.json() for name, s in job.steps.items()},
                    errors=job.errors[:MAX_ERRORS],
                    message=job.message,
                    heartbeat_at=job.heartbeat_at,
                    finished_at=job.finished_at,
                )
            )

    async def claim(self, job: TransferJob) -> bool:
        """Take over an interrupted job (only one process wins): beat its heart if it is
        still stale."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            result = await conn.execute(
                t.transfer_jobs.update()
                .where(
                    t.transfer_jobs.c.id == job.id,
                    t.transfer_jobs.c.state == "running",
                    t.transfer_jobs.c.heartbeat_at == job.heartbeat_at,
                )
                .values(heartbeat_at=now)
            )
        if result.rowcount == 1:
            job.heartbeat_at = now
            return True
        return False

    async def get(self, job_id: str) -> TransferJob | None:
        """A job by id."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(sa.select(t.transfer_jobs).where(t.transfer_jobs.c.id == job_id))
            ).first()
        return _job(row) if row is not None else None

    async def latest(self, integration: str, *, limit: int = 10) -> list[TransferJob]:
        """The integration's most recent jobs, newest first."""
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(t.transfer_jobs)
                    .where(t.transfer_jobs.c.integration == integration)
                    .order_by(t.transfer_jobs.c.started_at.desc(), t.transfer_jobs.c.id.desc())
                    .limit(limit)
                )
            ).all()
        return [_job(r) for r in rows]

    async def unfinished(self, integration: str | None = None) -> list[TransferJob]:
        """Jobs still marked running (live, or interrupted when their heart stopped)."""
        where = [t.transfer_jobs.c.state == "running"]
        if integration is not None:
            where.append(t.transfer_jobs.c.integration == integration)
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(t.transfer_jobs).where(*where).order_by(t.transfer_jobs.c.started_at)
                )
            ).all()
        return [_job(r) for r in rows]

    async def forget(self, integration: str) -> None:
        """Remove an integration's jobs (when the integration is deleted)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                t.transfer_jobs.delete().where(t.transfer_jobs.c.integration == integration)
            )


__all__ = ["KINDS", "StepProgress", "TransferJob", "TransferJobStore"]
