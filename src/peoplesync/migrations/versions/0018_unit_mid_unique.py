"""A business unit's MID is unique in the database (two adds at the same moment could both
pass the check in code), and report rows stored before 0016 get a change time.

Units sharing a MID before this: the oldest (by creation time) keeps it; each later one gets
a placeholder MID ``dupN-<MID>`` (not a number, so it matches no report row and its write-back
writes nothing, where it wrote the first unit's rows a second time). Its credentials and
settings are kept: edit its MID or remove it (``peoplesync marketing-cloud list`` shows it).
Each one is logged by name.

Report rows without a change time were read by every write-back pass; they get their own
latest time (seen, else done, else sent; the epoch when they have none), so a unit without a
cursor reads them once and a unit with one (whose passes have read them all) not again.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)
log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    bind = op.get_bind()
    units = sa.table(
        "mc_business_units",
        sa.column("id", sa.String),
        sa.column("name", sa.String),
        sa.column("mid", sa.String),
        sa.column("created_at", _TIME),
    )
    rows = bind.execute(
        sa.select(units.c.id, units.c.name, units.c.mid).order_by(
            units.c.mid, units.c.created_at, units.c.id
        )
    ).all()
    seen: dict[str, str] = {}
    count = 0
    for row in rows:
        if row.mid not in seen:
            seen[row.mid] = row.name
            continue
        count += 1
        placeholder = f"dup{count}-{row.mid}"[:20]
        bind.execute(sa.update(units).where(units.c.id == row.id).values(mid=placeholder))
        log.warning(
            "business unit %r had MID %s, as %r has: its MID is now %r; edit it or remove it",
            row.name,
            row.mid,
            seen[row.mid],
            placeholder,
        )
    with op.batch_alter_table("mc_business_units") as batch:
        batch.create_unique_constraint("uq_mc_business_units_mid", ["mid"])

    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    if bind.dialect.name == "sqlite":
        epoch = epoch.replace(tzinfo=None)  # stored as naive UTC there, as UtcDateTime does
    reports = sa.table(
        "message_reports",
        sa.column("sent_at", _TIME),
        sa.column("done_at", _TIME),
        sa.column("seen_at", _TIME),
        sa.column("changed_at", _TIME),
    )
    own = sa.func.coalesce(reports.c.seen_at, reports.c.done_at, reports.c.sent_at, epoch)
    op.execute(reports.update().where(reports.c.changed_at.is_(None)).values(changed_at=own))


def downgrade() -> None:
    # placeholder MIDs and change times stay: both are valid under 0017
    with op.batch_alter_table("mc_business_units") as batch:
        batch.drop_constraint("uq_mc_business_units_mid", type_="unique")
