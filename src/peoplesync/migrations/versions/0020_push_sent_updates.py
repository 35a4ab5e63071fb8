"""A push's update attempts get a table of their own, one row a record: they were one
sync-state value per integration (``<system>:push:updates``) that every save and forget
rewrote whole and every inbound batch read whole (about 6 MB for a push page updating
50,000 Leads). Attempts saved in the old value (a push died with an update in flight) move
to the table.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_SUFFIX = ":push:updates"


def _when(value: object, sqlite: bool) -> datetime:
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        at = datetime.now(UTC)
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.replace(tzinfo=None) if sqlite else at  # naive UTC on SQLite, as UtcDateTime


def upgrade() -> None:
    updates = op.create_table(
        "push_sent_updates",
        sa.Column("system", sa.String(length=200), nullable=False),
        sa.Column("record_id", sa.String(length=100), nullable=False),
        sa.Column("object", sa.String(length=40), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("sent", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("system", "record_id"),
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
                "record_id": record_id,
                "object": attempt["object"],
                "at": _when(attempt.get("at"), sqlite),
                "sent": dict(attempt["values"]),
            }
            for record_id, attempt in (value or {}).items()
            if isinstance(attempt, dict)
            and attempt.get("object")
            and isinstance(attempt.get("values"), dict)
            and attempt["values"]  # an attempt without values held nothing unsure
        ]
        if rows:
            bind.execute(sa.insert(updates), rows)
        bind.execute(sa.delete(state).where(state.c.key == key))


def downgrade() -> None:
    # Attempts in flight are dropped with the table: a record holding a value sent then
    # reads as a Salesforce change again (as before the attempts were saved at all).
    op.drop_table("push_sent_updates")
