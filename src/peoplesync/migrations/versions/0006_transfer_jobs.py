"""Transfer jobs started from the web: options, live progress, errors, state.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "transfer_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("integration", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("options", _JSON, nullable=False),
        sa.Column("progress", _JSON, nullable=False),
        sa.Column("errors", _JSON, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("started_by", sa.String(length=320), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_transfer_jobs_integration_started", "transfer_jobs", ["integration", "started_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_transfer_jobs_integration_started", table_name="transfer_jobs")
    op.drop_table("transfer_jobs")
