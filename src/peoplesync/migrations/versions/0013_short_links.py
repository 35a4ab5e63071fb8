"""Short links and their clicks (tracked URLs in message bodies).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "short_links",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("base", sa.String(length=300), nullable=False),
        sa.Column("tracked", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("code"),
        sa.UniqueConstraint("message_id", "position", name="uq_short_links_message_position"),
    )
    op.create_table(
        "link_clicks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column(
            "notification_type", sa.String(length=50), nullable=False, server_default="CLICKED"
        ),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("recipient", sa.String(length=50)),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("clicked_at", _TIME, nullable=False),
        sa.Column("device_type", sa.String(length=50), nullable=False),
        sa.Column("os", sa.String(length=50)),
        sa.Column("device_name", sa.String(length=50)),
        sa.Column("user_agent", sa.String(length=500)),
        sa.Column("callback_data", sa.Text()),
        sa.Column("channel", sa.String(length=50)),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_link_clicks_message", "link_clicks", ["message_id", "id"])
    op.create_index("ix_link_clicks_time", "link_clicks", ["clicked_at"])


def downgrade() -> None:
    op.drop_index("ix_link_clicks_time", table_name="link_clicks")
    op.drop_index("ix_link_clicks_message", table_name="link_clicks")
    op.drop_table("link_clicks")
    op.drop_table("short_links")
