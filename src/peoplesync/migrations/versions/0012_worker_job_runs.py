"""The job log of the queue workers: one row per run of a job, to check where and when.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "worker_job_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("task", sa.String(length=100), nullable=False),
        sa.Column("integration", sa.String(length=100), nullable=False),
        sa.Column("step", sa.String(length=40), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=False),
        sa.Column("started_at", _TIME, nullable=False),
        sa.Column("ended_at", _TIME, nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=False, server_default=""),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_worker_job_runs_job", "worker_job_runs", ["job_id"])
    op.create_index("ix_worker_job_runs_started", "worker_job_runs", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_worker_job_runs_started", table_name="worker_job_runs")
    op.drop_index("ix_worker_job_runs_job", table_name="worker_job_runs")
    op.drop_table("worker_job_runs")
