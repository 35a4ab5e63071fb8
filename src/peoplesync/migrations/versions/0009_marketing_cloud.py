"""Marketing Cloud: business units with their sealed secrets.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mc_business_units",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("mid", sa.String(length=20), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("auth_url", sa.String(length=500), nullable=False),
        sa.Column("client_secret_sealed", sa.Text(), nullable=False),
        sa.Column("jwt_secret_sealed", sa.Text(), nullable=True),
        sa.Column("salt_key_sealed", sa.Text(), nullable=True),
        sa.Column("default_account", sa.String(length=100), nullable=True),
        sa.Column("short_domain", sa.String(length=253), nullable=True),
        sa.Column("report_storage", sa.String(length=10), server_default="native", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("mc_business_units")
