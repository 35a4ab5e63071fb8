"""Integration status in the People database: state, per-day counters, problems, operation log.

Counters and the log are statistics: each write is its own short transaction after the data it
describes is committed, so it can never undo or hold up the persons, links and cursor of a
batch. A sync's error entries are different: they go in the batch's own transaction
(:func:`write_problems`), so a crash can neither lose them nor leave them without their batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from peoplesync.clock import Clock
from peoplesync.people import tables as t
from peoplesync.sync.status.state import Counts, IntegrationStatus, Problem, State

LOG_RETENTION = timedelta(days=30)
COUNTER_RETENTION = timedelta(days=90)
_CAS_ATTEMPTS = 5


@dataclass(frozen=True)
class Operation:
    """One line of the operation log."""

    at: datetime
    operation: str
    object: str
    records: int
    outcome: str
    detail: str


def _upsert(conn: AsyncConnection, table: sa.Table) -> Any:
    dialect = conn.dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def write_problems(
    conn: AsyncConnection,
    integration: str,
    step: str,
    problems: Sequence[Problem],
    now: datetime,
) -> None:
    """Add problems on ``conn`` (a batch's own transaction, or one of their own); one seen
    before gets its message refreshed and its count raised, unless it is the same version of
    the record met again (its ``changed_at`` is not after the problem was last seen)."""
    table = t.sync_problems
    unique = {(p.code, p.record): p for p in problems}
    for problem in unique.values():
        statement = _upsert(conn, table).values(
            integration=integration,
            step=step,
            code=problem.code[:100],
            record_id=problem.record[:100],
            severity=problem.severity,
            field=problem.field[:255],
            message=problem.message,
            hint=problem.hint,
            first_seen=now,
            last_seen=now,
            count=1,
        )
        again = table.c["count"] + 1
        if problem.changed_at is not None:
            changed = sa.literal(problem.changed_at, table.c.last_seen.type)
            again = sa.case((changed > table.c.last_seen, again), else_=table.c["count"])
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=["integration", "step", "code", "record_id"],
                set_={
                    "field": statement.excluded.field,
                    "message": statement.excluded.message,
                    "hint": statement.excluded.hint,
                    "last_seen": statement.excluded.last_seen,
                    "count": again,
                },
            )
        )


class StatusStore:
    """Status tables on the People store's engine."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    # --- state -----------------------------------------------------------------------

    async def status(self, integration: str) -> IntegrationStatus:
        """The integration's status (active with the default share when never recorded)."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(t.sync_status).where(t.sync_status.c.integration == integration)
                )
            ).first()
        if row is None:
            return IntegrationStatus()
        return IntegrationStatus(State(row.state), row.reason, row.since, row.until, row.api_share)

    async def transition(
        self, integration: str, change: Callable[[IntegrationStatus], IntegrationStatus]
    ) -> IntegrationStatus:
        """Apply ``change`` to the current status; a concurrent change (a person pausing while
        a pass ends) makes it read and decide again rather than overwrite."""
        for _ in range(_CAS_ATTEMPTS):
            current = await self.status(integration)
            new = change(current)
            values = {
                "state": new.state.value,
                "reason": new.reason,
                "since": new.since,
                "until": new.until,
                "api_share": new.api_share,
            }
            async with self.engine.begin() as conn:
                updated = await conn.execute(
                    t.sync_status.update()
                    .where(
                        t.sync_status.c.integration == integration,
                        t.sync_status.c.state == current.state.value,
                    )
                    .values(**values)
                )
                if updated.rowcount == 1:
                    return new
                inserted = await conn.execute(
                    _upsert(conn, t.sync_status)
                    .values(integration=integration, last_sync={}, **values)
                    .on_conflict_do_nothing()
                )
                if inserted.rowcount == 1:
                    return new
        raise RuntimeError(f"the status of {integration!r} keeps changing concurrently")

    async def mark_synced(self, integration: str, step: str, at: datetime) -> None:
        """Remember when a step last completed a pass."""
        await self.transition(integration, lambda status: status)
        async with self.engine.begin() as conn:
            where = t.sync_status.c.integration == integration
            last = await conn.scalar(sa.select(t.sync_status.c.last_sync).where(where))
            await conn.execute(
                t.sync_status.update()
                .where(where)
                .values(last_sync={**dict(last or {}), step: at.isoformat()})
            )

    async def last_sync(self, integration: str) -> dict[str, str]:
        """When each step last completed a pass (ISO times by step)."""
        async with self.engine.connect() as conn:
            value = await conn.scalar(
                sa.select(t.sync_status.c.last_sync).where(
                    t.sync_status.c.integration == integration
                )
            )
        return dict(value or {})

    # --- counters --------------------------------------------------------------------

    async def add_counts(self, integration: str, day: date, step: str, counts: Counts) -> None:
        """Add to a day's counters of one step ('' for calls not tied to a step)."""
        if counts.empty:
            return
        values = {
            "created": counts.created,
            "updated": counts.updated,
            "deleted": counts.deleted,
            "rejected": counts.rejected,
            "api_calls": counts.api_calls,
        }
        async with self.engine.begin() as conn:
            statement = _upsert(conn, t.sync_counters).values(
                integration=integration, day=day, step=step, **values
            )
            await conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["integration", "day", "step"],
                    set_={name: t.sync_counters.c[name] + value for name, value in values.items()},
                )
            )
            await conn.execute(
                t.sync_counters.delete().where(
                    t.sync_counters.c.day < day - COUNTER_RETENTION,
                    t.sync_counters.c.integration == integration,
                )
            )

    async def daily(self, integration: str, since: date) -> dict[date, dict[str, Counts]]:
        """Counters by day and step from ``since`` on."""
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(t.sync_counters).where(
                        t.sync_counters.c.integration == integration,
                        t.sync_counters.c.day >= since,
                    )
                )
            ).all()
        days: dict[date, dict[str, Counts]] = {}
        for r in rows:
            days.setdefault(r.day, {})[r.step] = Counts(
                r.created, r.updated, r.deleted, r.rejected, r.api_calls
            )
        return days

    async def calls_on(self, integration: str, day: date) -> int:
        """API calls counted for an integration on one day."""
        async with self.engine.connect() as conn:
            total = await conn.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(t.sync_counters.c.api_calls), 0)).where(
                    t.sync_counters.c.integration == integration, t.sync_counters.c.day == day
                )
            )
        return int(total or 0)

    # --- problems --------------------------------------------------------------------

    async def record_problems(
        self, integration: str, step: str, problems: Sequence[Problem]
    ) -> None:
        """Add problems; one seen before gets its message refreshed and its count raised."""
        if not problems:
            return
        async with self.engine.begin() as conn:
            await write_problems(conn, integration, step, problems, self.clock.now())

    async def clear_resolved(self, integration: str, step: str, system: str, sobject: str) -> int:
        """Forget problems of records that synced after the problem was last seen, and
        problems not seen for the retention period; returns how many went."""
        links = t.external_links
        problems = t.sync_problems
        synced_since = (
            sa.select(links.c.external_id)
            .where(
                links.c.system == system,
                links.c.object == sobject,
                links.c.external_id == problems.c.record_id,
                links.c.synced_at > problems.c.last_seen,
            )
            .exists()
        )
        async with self.engine.begin() as conn:
            resolved = await conn.execute(
                problems.delete().where(
                    problems.c.integration == integration,
                    problems.c.step == step,
                    synced_since,
                )
            )
            stale = await conn.execute(
                problems.delete().where(
                    problems.c.integration == integration,
                    problems.c.last_seen < self.clock.now() - LOG_RETENTION,
                )
            )
        return int(resolved.rowcount or 0) + int(stale.rowcount or 0)

    async def clear_records(self, integration: str, records: Sequence[str]) -> int:
        """Forget the problems of records that have since gone through (a pushed person's
        ``person <id>``); returns how many went."""
        gone = 0
        problems = t.sync_problems
        async with self.engine.begin() as conn:
            for start in range(0, len(records), 500):
                result = await conn.execute(
                    problems.delete().where(
                        problems.c.integration == integration,
                        problems.c.record_id.in_(records[start : start + 500]),
                    )
                )
                gone += int(result.rowcount or 0)
        return gone

    async def problems(self, integration: str) -> list[dict[str, Any]]:
        """Every open problem, most recent first."""
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(t.sync_problems)
                    .where(t.sync_problems.c.integration == integration)
                    .order_by(t.sync_problems.c.last_seen.desc(), t.sync_problems.c.record_id)
                )
            ).all()
        return [dict(r._mapping) for r in rows]

    # --- operation log ---------------------------------------------------------------

    async def log(
        self,
        integration: str,
        operation: str,
        *,
        object: str = "",
        records: int = 0,
        outcome: str = "ok",
        detail: str = "",
    ) -> None:
        """Append to the operation log; entries older than the retention period go."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            await conn.execute(
                t.sync_operations.insert(),
                {
                    "at": now,
                    "integration": integration,
                    "operation": operation,
                    "object": object,
                    "records": records,
                    "outcome": outcome,
                    "detail": detail,
                },
            )
            await conn.execute(
                t.sync_operations.delete().where(t.sync_operations.c.at < now - LOG_RETENTION)
            )

    async def operations(self, integration: str, *, limit: int = 50) -> list[Operation]:
        """The most recent log entries, newest first."""
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(t.sync_operations)
                    .where(t.sync_operations.c.integration == integration)
                    .order_by(t.sync_operations.c.seq.desc())
                    .limit(limit)
                )
            ).all()
        return [
            Operation(r.at, r.operation, r.object, r.records, r.outcome, r.detail) for r in rows
        ]

    async def delete_integration(self, integration: str, system: str) -> int:
        """Remove an integration in one transaction: its sealed connection settings, its
        profile of steps, cursors and replay ids, links to its records, state, counters and
        problems. Persons and companies stay, and so does the operation log. Returns how many
        links went."""
        async with self.engine.begin() as conn:
            state = t.sync_state.c.key
            await conn.execute(
                t.sync_state.delete().where(
                    state.in_([f"integration:{integration}", f"profile:{integration}"])
                    | state.startswith(f"{system}:", autoescape=True)
                )
            )
            links = await conn.execute(
                t.external_links.delete().where(t.external_links.c.system == system)
            )
            for table in (t.sync_status, t.sync_counters, t.sync_problems):
                await conn.execute(table.delete().where(table.c.integration == integration))
        return int(links.rowcount or 0)
