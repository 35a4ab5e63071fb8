"""The job log's table: where and when each queue job ran (the workers write it), under the
one metadata beside the People and sync tables; migration 0012 creates it."""

from __future__ import annotations

import sqlalchemy as sa

from peoplesync.people.tables import UtcDateTime, metadata

job_runs = sa.Table(
    "worker_job_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.BigInteger, nullable=False),
    sa.Column("task", sa.String(100), nullable=False),
    sa.Column("integration", sa.String(100), nullable=False),
    sa.Column("step", sa.String(40), nullable=False),
    sa.Column("worker", sa.String(200), nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("ended_at", UtcDateTime, nullable=True),
    sa.Column("outcome", sa.String(40), nullable=False, server_default=""),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Index("ix_worker_job_runs_job", "job_id"),  # the names migration 0012 gives them
    sa.Index("ix_worker_job_runs_started", "started_at"),
)
