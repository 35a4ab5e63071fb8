"""Applies parsed delivery and seen reports to the outbox: state, provider status, events,
and the events on the timeline of the person the message went to.

Idempotent: a provider retries a report it thinks we missed, so a report for a message that
already has that report's event adds nothing and changes nothing. A report for a message id
we never sent is counted and skipped; the rest of the payload is still applied. A payload
posted to an account's receiver applies only to messages sent through that account: a report
for any other message id (of another account, or never sent) is rejected, named, not applied.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from peoplesync.clock import Clock
from peoplesync.messaging.call_groups import CallGroups
from peoplesync.messaging.person_timeline import MessageEvent, add_to_timelines
from peoplesync.messaging.report_rows import delivery_row, save_rows, seen_rows
from peoplesync.messaging.reports import FINAL_STATES, SEEN, DeliveryReport, SeenReport
from peoplesync.messaging.tables import message_events, outbound_messages

_m = outbound_messages
_e = message_events
T = TypeVar("T", DeliveryReport, SeenReport)
REPORT = "report"  # the ``source`` of events made from reports, set apart from send events


@dataclass
class ReportsApplied:
    """What one payload did."""

    applied: int = 0  # reports that added an event
    duplicates: int = 0  # already applied before (a provider retry)
    unknown: int = 0  # message ids we never sent
    pending: int = 0  # intermediate statuses: no state change
    events: list[MessageEvent] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # not sent through the payload's account


@dataclass(frozen=True)
class _Part(Generic[T]):
    """One caller's reports, and the account they were posted for (``None``: any)."""

    reports: Sequence[T]
    account: str | None

    def __len__(self) -> int:
        return len(self.reports)


class ReportStore:
    """Reports on the People database (SQLite or PostgreSQL).

    Payloads posted at the same time are applied in one transaction (``call_groups``); each
    call still returns once its own reports are committed, with its own counts.
    """

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._delivery: CallGroups[_Part[DeliveryReport], ReportsApplied] = CallGroups(
            self._write_delivery, len
        )
        self._seen: CallGroups[_Part[SeenReport], ReportsApplied] = CallGroups(
            self._write_seen, len
        )

    async def apply_delivery(
        self, reports: Sequence[DeliveryReport], account: str | None = None
    ) -> ReportsApplied:
        """Apply delivery reports; with ``account``, only to messages sent through it."""
        return await self._delivery.submit(_Part(reports, account))

    async def apply_seen(
        self, reports: Sequence[SeenReport], account: str | None = None
    ) -> ReportsApplied:
        """Apply seen reports; with ``account``, only to messages sent through it."""
        return await self._seen.submit(_Part(reports, account))

    async def _write_delivery(
        self, payloads: Sequence[_Part[DeliveryReport]]
    ) -> list[ReportsApplied]:
        out = [ReportsApplied() for _ in payloads]
        async with self._engine.begin() as conn:
            ids = [r.message_id for p in payloads for r in p.reports]
            known, accounts = await self._messages(conn, ids)
            applied = await self._applied(conn, list(known), FINAL_STATES)
            rows: dict[str, dict[str, Any]] = {}
            updates: dict[tuple[str, str, str], list[str]] = {}
            events: list[dict[str, Any]] = []
            for done, part, report in _each(out, payloads):
                message = known.get(report.message_id)
                state = report.state
                if _refused(done, part, report.message_id, accounts):
                    continue
                if message is None:
                    done.unknown += 1
                    continue
                if state is None:
                    done.pending += 1
                    continue
                if report.message_id in applied:
                    done.duplicates += 1
                    continue
                applied.add(report.message_id)
                change = (state, report.status_name[:60], _detail(report))
                updates.setdefault(change, []).append(report.message_id)
                at = report.done_at or self._clock.now()
                events.append(
                    {
                        "message_id": report.message_id,
                        "kind": state,
                        "at": at,
                        "detail": _event(report),
                    }
                )
                done.applied += 1
                done.events.append(MessageEvent(report.message_id, state, at, *message))
                rows[report.message_id] = delivery_row(report, message[0], message[1])
            # Most reports of a payload say the same: one UPDATE per kind, one INSERT in all.
            for (state, status, detail), ids in updates.items():
                await conn.execute(
                    sa.update(_m)
                    .where(_m.c.id.in_(ids))
                    .values(state=state, provider_status=status, detail=detail, lease_until=None)
                )
            if events:
                await conn.execute(sa.insert(_e), events)
            await save_rows(conn, rows, {mid: known[mid][1] for mid in rows})
            await add_to_timelines(conn, [e for done in out for e in done.events])
        return out

    async def _write_seen(self, payloads: Sequence[_Part[SeenReport]]) -> list[ReportsApplied]:
        out = [ReportsApplied() for _ in payloads]
        async with self._engine.begin() as conn:
            ids = [r.message_id for p in payloads for r in p.reports]
            known, accounts = await self._messages(conn, ids)
            applied = await self._applied(conn, list(known), (SEEN,))
            for done, part, report in _each(out, payloads):
                message = known.get(report.message_id)
                if _refused(done, part, report.message_id, accounts):
                    continue
                if message is None:
                    done.unknown += 1
                    continue
                if report.message_id in applied:
                    done.duplicates += 1
                    continue
                applied.add(report.message_id)
                detail = {
                    "source": REPORT,
                    "sentAt": report.sent_at.isoformat() if report.sent_at else None,
                    "seenAt": report.seen_at.isoformat(),
                }
                await conn.execute(
                    sa.insert(_e).values(
                        message_id=report.message_id, kind=SEEN, at=report.seen_at, detail=detail
                    )
                )
                done.applied += 1
                done.events.append(MessageEvent(report.message_id, SEEN, report.seen_at, *message))
            new = [e for done in out for e in done.events]
            new_ids = {event.message_id for event in new}
            fresh = [r for p in payloads for r in p.reports if r.message_id in new_ids]
            await save_rows(
                conn,
                seen_rows(fresh, {mid: known[mid][0] for mid in known}),
                {mid: known[mid][1] for mid in known},
            )
            await add_to_timelines(conn, new)
        return out

    async def _messages(
        self, conn: AsyncConnection, ids: Sequence[str]
    ) -> tuple[dict[str, tuple[str, str, str | None]], dict[str, str]]:
        """Known messages among ``ids`` and their accounts, locked on PostgreSQL so a
        concurrent retry waits."""
        wanted = sorted({i for i in ids if len(i) <= 64})
        if not wanted:
            return {}, {}
        query = sa.select(
            _m.c.id, _m.c.account, _m.c.channel, _m.c.recipient, _m.c.person_id
        ).where(_m.c.id.in_(wanted))
        if conn.dialect.name == "sqlite":
            # Take the write lock before reading: two copies of one report posted at the same
            # moment (the provider retries) are then applied one after the other.
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif conn.dialect.name == "postgresql":
            query = query.order_by(_m.c.id).with_for_update()
        rows = list(await conn.execute(query))
        known = {row.id: (row.channel, row.recipient, row.person_id) for row in rows}
        return known, {row.id: row.account for row in rows}

    async def _applied(
        self, conn: AsyncConnection, ids: Sequence[str], kinds: Sequence[str]
    ) -> set[str]:
        if not ids:
            return set()
        rows = await conn.execute(
            sa.select(_e.c.message_id, _e.c.detail).where(
                _e.c.message_id.in_(ids), _e.c.kind.in_(kinds)
            )
        )
        return {
            row.message_id
            for row in rows
            if isinstance(row.detail, dict) and row.detail.get("source") == REPORT
        }


def _each(
    out: Sequence[ReportsApplied], payloads: Sequence[_Part[T]]
) -> Iterator[tuple[ReportsApplied, _Part[T], T]]:
    for done, part in zip(out, payloads, strict=True):
        for report in part.reports:
            yield done, part, report


def _refused(
    done: ReportsApplied, part: _Part[Any], message_id: str, accounts: dict[str, str]
) -> bool:
    """Count and name a report for a message not sent through the part's account."""
    if part.account is None or accounts.get(message_id) == part.account:
        return False
    done.rejected.append(message_id)
    return True


def _detail(report: DeliveryReport) -> str:
    if report.error_name and report.error_name != "NO_ERROR":
        described = f": {report.error_description}" if report.error_description else ""
        return f"{report.error_name}{described}"
    return report.status_description


def _event(report: DeliveryReport) -> dict[str, Any]:
    return {
        "source": REPORT,
        "status": report.status_name,
        "group": report.status_group,
        "description": report.status_description,
        "error": report.error_name,
        "errorDescription": report.error_description,
        "permanent": report.error_permanent,
        "price": report.price,
        "currency": report.currency,
        "parts": report.parts,
        "sentAt": report.sent_at.isoformat() if report.sent_at else None,
        "doneAt": report.done_at.isoformat() if report.done_at else None,
    }
