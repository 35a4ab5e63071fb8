"""When each click row was stored: report write-back reads clicks stored since its cursor, so a
click a provider reports late (its retries run for hours) is still written back. Our own
clicks stored before this keep their click time as the time they were stored; a provider's
get this migration's time (one may have been reported late), so the next pass reads them once
and the marks skip those written already.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("link_clicks", sa.Column("stored_at", _TIME, nullable=True))
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # stored as naive UTC there, as UtcDateTime does
    clicks = sa.table(
        "link_clicks",
        sa.column("code", sa.String),
        sa.column("clicked_at", _TIME),
        sa.column("stored_at", _TIME),
    )
    op.execute(
        clicks.update().where(clicks.c.code.is_not(None)).values(stored_at=clicks.c.clicked_at)
    )
    op.execute(clicks.update().where(clicks.c.code.is_(None)).values(stored_at=now))
    op.create_index("ix_link_clicks_stored", "link_clicks", ["stored_at"])


def downgrade() -> None:
    op.drop_index("ix_link_clicks_stored", table_name="link_clicks")
    op.drop_column("link_clicks", "stored_at")
