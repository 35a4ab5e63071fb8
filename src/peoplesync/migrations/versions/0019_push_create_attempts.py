"""A push's create attempts get a table of their own, one row a person: they were one
sync-state value per integration (``<system>:push:creates``) that every save and every
inbound batch read and wrote whole (11 MB for a push of 50,000 new Leads). Attempts saved
in the old value (a push died with a create in flight) move to the table.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_SUFFIX = ":push:creates"


def _when(value: object, sqlite: bool) -> datetime:
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        at = datetime.now(UTC)
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.replace(tzinfo=None) if sqlite else at  # naive UTC on SQLite, as UtcDateTime


def upgrade() -> None:
    attempts = op.create_table(
        "push_create_attempts",
        sa.Column("system", sa.String(length=200), nullable=False),
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("object", sa.String(length=40), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("sent", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("system", "person_id"),
    )
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    state = sa.table("sync_state", sa.column("key", sa.String), sa.column("value", _JSON))
    saved = bind.execute(
        sa.select(state.c.key, state.c.value).where(state.c.key.like(f"%{_SUFFIX}"))
    ).all()
    for key, value in saved:
        system = key.removesuffix(_SUFFIX)
        rows = [
            {
                "system": system,
                "person_id": person_id,
                "object": attempt["object"],
                "at": _when(attempt.get("at"), sqlite),
                "sent": dict(attempt.get("values") or {}),
            }
            for person_id, attempt in (value or {}).items()
            if isinstance(attempt, dict) and attempt.get("object")
        ]
        if rows:
            bind.execute(sa.insert(attempts), rows)
        bind.execute(sa.delete(state).where(state.c.key == key))


def downgrade() -> None:
    # Attempts in flight are dropped with the table: the email lookup still finds a lost
    # create of a person with an email.
    op.drop_table("push_create_attempts")
