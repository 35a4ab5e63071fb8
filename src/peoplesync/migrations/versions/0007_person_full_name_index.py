"""Search by first and last name ("ada lov"): one index on both lower-cased names, so the
People search can tell in a few index entries whether such a pair is common.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # PostgreSQL needs the pattern operator class for LIKE 'abc%' on the last name.
    ops = " text_pattern_ops" if op.get_bind().dialect.name == "postgresql" else ""
    op.execute(
        "CREATE INDEX ix_persons_full_name_lower"
        f" ON persons (lower(first_name){ops}, lower(last_name){ops})"
    )


def downgrade() -> None:
    op.drop_index("ix_persons_full_name_lower", table_name="persons")
