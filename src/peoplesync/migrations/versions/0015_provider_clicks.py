"""Clicks reported by a provider that shortened a message's URLs itself: no short link of
ours (``code`` may be empty) and a key that makes a retried report count once.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("link_clicks") as batch:
        batch.alter_column("code", existing_type=sa.String(length=16), nullable=True)
        batch.add_column(sa.Column("report_key", sa.String(length=40), nullable=True))
        batch.create_unique_constraint("uq_link_clicks_report_key", ["report_key"])


def downgrade() -> None:
    op.execute("DELETE FROM link_clicks WHERE code IS NULL")
    with op.batch_alter_table("link_clicks") as batch:
        batch.drop_constraint("uq_link_clicks_report_key", type_="unique")
        batch.drop_column("report_key")
        batch.alter_column("code", existing_type=sa.String(length=16), nullable=False)
