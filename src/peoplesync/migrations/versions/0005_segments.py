"""Saved segments (named person filters) and indexes for equality filters on the most filtered
standard attributes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# (lower(column), id): "country equals x" walks the index already in the list's order (newest
# id first), so a page of a filtered list costs the same whatever the match ratio.
FILTERED_COLUMNS = ("country", "city", "company", "status")


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", name="uq_segments_name"),
    )
    for column in FILTERED_COLUMNS:
        op.execute(f"CREATE INDEX ix_persons_{column}_lower_id ON persons (lower({column}), id)")


def downgrade() -> None:
    for column in FILTERED_COLUMNS:
        op.drop_index(f"ix_persons_{column}_lower_id", table_name="persons")
    op.drop_table("segments")
