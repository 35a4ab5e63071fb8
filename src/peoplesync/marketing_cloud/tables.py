"""The Marketing Cloud tables, on the People database's one metadata (Alembic targets it)."""

from __future__ import annotations

import sqlalchemy as sa

from peoplesync.people.tables import Id, UtcDateTime, metadata

business_units = sa.Table(
    "mc_business_units",
    metadata,
    sa.Column("id", Id, primary_key=True),
    sa.Column("name", sa.String(60), nullable=False, unique=True),
    sa.Column("mid", sa.String(20), nullable=False),
    sa.Column("client_id", sa.String(100), nullable=False),
    sa.Column("auth_url", sa.String(500), nullable=False),
    sa.Column("client_secret_sealed", sa.Text, nullable=False),
    sa.Column("jwt_secret_sealed", sa.Text),
    sa.Column("salt_key_sealed", sa.Text),
    sa.Column("default_account", sa.String(100)),
    sa.Column("short_domain", sa.String(253)),
    sa.Column("report_storage", sa.String(10), nullable=False, server_default="native"),
    sa.Column("created_at", UtcDateTime, nullable=False),
)
