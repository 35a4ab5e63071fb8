"""When each click row was stored: report write-back reads clicks stored since its cursor, so a
click a provider reports late (its retries run for hours) is still written back. Rows stored
before this keep their click time as the time they were stored.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("link_clicks", sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE link_clicks SET stored_at = clicked_at")
    op.create_index("ix_link_clicks_stored", "link_clicks", ["stored_at"])


def downgrade() -> None:
    op.drop_index("ix_link_clicks_stored", table_name="link_clicks")
    op.drop_column("link_clicks", "stored_at")
