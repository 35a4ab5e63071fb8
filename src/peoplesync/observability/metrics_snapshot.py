"""Read what ``/metrics`` shows from the database, at scrape time (the I/O half; the
Prometheus text is made from the snapshot by ``metrics_text``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from peoplesync.marketing_cloud.last_pass import PREFIX as _REPORT_PASS
from peoplesync.marketing_cloud.last_pass import LastPass, from_json
from peoplesync.messaging import tables as mt
from peoplesync.people import tables as t

OUTBOX = "outbox"
_OUTBOX_WAITING = ("queued", "sending")  # messages not sent yet
_INTEGRATION = "integration:"


@dataclass(frozen=True)
class StepCounts:
    """What one step of one integration did, summed over the kept days."""

    integration: str
    step: str
    created: int
    updated: int
    deleted: int
    rejected: int


@dataclass(frozen=True)
class QueueDepth:
    """Jobs of one queue in one state, and when the oldest waiting one was made."""

    queue: str
    state: str
    jobs: int
    oldest: datetime | None = None


@dataclass
class Snapshot:
    """Everything ``/metrics`` reports, read in one go."""

    database_up: bool = True
    states: dict[str, str] = field(default_factory=dict)  # integration -> status state
    last_sync: dict[tuple[str, str], datetime] = field(default_factory=dict)  # (int., step)
    counts: list[StepCounts] = field(default_factory=list)
    api_calls: dict[str, int] = field(default_factory=dict)  # integration -> calls
    push_backlog: dict[str, int] = field(default_factory=dict)  # integration -> changes
    queues: list[QueueDepth] = field(default_factory=list)
    report_passes: list[LastPass] = field(default_factory=list)  # each unit's last write-back


async def read_snapshot(engine: AsyncEngine) -> Snapshot:
    """The database half of the metrics (``database_up`` False when it cannot be read)."""
    snapshot = Snapshot()
    try:
        async with engine.connect() as conn:
            await _statuses(conn, snapshot)
            await _counters(conn, snapshot)
            await _backlog(conn, snapshot)
            await _outbox(conn, snapshot)
            await _report_passes(conn, snapshot)
            if conn.dialect.name == "postgresql":
                await _procrastinate(conn, snapshot)
    except (OSError, sa.exc.SQLAlchemyError):
        return Snapshot(database_up=False)
    return snapshot


async def _statuses(conn: AsyncConnection, snapshot: Snapshot) -> None:
    rows = await conn.execute(
        sa.select(t.sync_status.c.integration, t.sync_status.c.state, t.sync_status.c.last_sync)
    )
    for integration, state, last_sync in rows:
        snapshot.states[integration] = state
        for step, at in dict(last_sync or {}).items():
            moment = _utc(at)
            if moment is not None:
                snapshot.last_sync[(integration, step)] = moment


async def _counters(conn: AsyncConnection, snapshot: Snapshot) -> None:
    c = t.sync_counters.c
    rows = await conn.execute(
        sa.select(
            c.integration,
            c.step,
            sa.func.sum(c.created),
            sa.func.sum(c.updated),
            sa.func.sum(c.deleted),
            sa.func.sum(c.rejected),
            sa.func.sum(c.api_calls),
        )
        .group_by(c.integration, c.step)
        .order_by(c.integration, c.step)
    )
    for integration, step, created, updated, deleted, rejected, calls in rows:
        snapshot.api_calls[integration] = snapshot.api_calls.get(integration, 0) + int(calls or 0)
        if step:  # the "" step holds API calls only
            snapshot.counts.append(
                StepCounts(
                    integration,
                    step,
                    int(created or 0),
                    int(updated or 0),
                    int(deleted or 0),
                    int(rejected or 0),
                )
            )


async def _backlog(conn: AsyncConnection, snapshot: Snapshot) -> None:
    """Change-log entries past each integration's push position (integrations that have
    pushed at least once)."""
    key = t.sync_state.c.key
    names = [
        str(name).removeprefix(_INTEGRATION)
        for name in await conn.scalars(sa.select(key).where(key.like(f"{_INTEGRATION}%")))
    ]
    for name in names:
        stored = await conn.scalar(
            sa.select(t.sync_state.c.value).where(key == f"salesforce:{name}:push")
        )
        position = _position(stored)
        if position is None:
            continue
        snapshot.push_backlog[name] = int(
            await conn.scalar(
                sa.select(sa.func.count())
                .select_from(t.change_log)
                .where(t.change_log.c.seq > position)
            )
            or 0
        )


def _position(stored: Any) -> int | None:
    if not isinstance(stored, Mapping):
        return None
    position = stored.get("position")
    if not isinstance(position, Mapping):
        return None
    return int(position.get("seq", 0))


async def _outbox(conn: AsyncConnection, snapshot: Snapshot) -> None:
    m = mt.outbound_messages.c
    rows = await conn.execute(
        sa.select(m.state, sa.func.count(), sa.func.min(m.created_at))
        .where(m.state.in_(_OUTBOX_WAITING))
        .group_by(m.state)
    )
    found = {state: (int(n), _utc(oldest)) for state, n, oldest in rows}
    for state in _OUTBOX_WAITING:
        jobs, oldest = found.get(state, (0, None))
        snapshot.queues.append(QueueDepth(OUTBOX, state, jobs, oldest))


async def _report_passes(conn: AsyncConnection, snapshot: Snapshot) -> None:
    key = t.sync_state.c.key
    rows = await conn.execute(
        sa.select(key, t.sync_state.c.value)
        .where(key.startswith(_REPORT_PASS, autoescape=True))
        .order_by(key)
    )
    for name, value in rows:
        unit = str(name).removeprefix(_REPORT_PASS)
        snapshot.report_passes.append(from_json(unit, dict(value)))


async def _procrastinate(conn: AsyncConnection, snapshot: Snapshot) -> None:
    """procrastinate's jobs table, when its schema is installed on this database."""
    present = await conn.scalar(
        sa.text(
            "SELECT to_regclass('procrastinate_jobs') IS NOT NULL "
            "AND to_regclass('procrastinate_events') IS NOT NULL"
        )
    )
    if not present:
        return
    rows = await conn.execute(
        sa.text(
            "SELECT j.queue_name, j.status::text, count(DISTINCT j.id), min(e.at) "
            "FROM procrastinate_jobs j LEFT JOIN procrastinate_events e "
            "ON e.job_id = j.id AND e.type::text = 'deferred' "
            "WHERE j.status::text IN ('todo', 'doing') GROUP BY j.queue_name, j.status"
        )
    )
    for queue, status, jobs, oldest in rows:
        snapshot.queues.append(QueueDepth(f"procrastinate:{queue}", status, int(jobs), oldest))


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
