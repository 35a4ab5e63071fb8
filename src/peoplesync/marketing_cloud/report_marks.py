"""What report write-back has written, and what is still to write, on the People database.

A page of rows to write is read by key after the last page's last key; a row is pending when
it has no mark for the unit and kind, or a mark of another fingerprint (it changed since). The
marks of a page are committed in one transaction once the page is written, so a crash before
that writes the page again (upserts by primary key: no duplicate row) and loses nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import Clock
from peoplesync.marketing_cloud.report_mapping import (
    EVENT,
    INBOUND,
    SMS,
    fingerprint,
    inbound_row,
    mid_pattern,
    report_row,
)
from peoplesync.marketing_cloud.tables import reply_triggers, report_marks
from peoplesync.messaging.report_rows import SMS_FAMILY
from peoplesync.messaging.tables import inbound_messages, message_reports, outbound_messages

_k = report_marks
_r = message_reports
_i = inbound_messages
_o = outbound_messages


@dataclass(frozen=True)
class Pending:
    """One row to write: its key (for the mark), the row, and its fingerprint."""

    key: str
    row: dict[str, Any]
    fingerprint: str


@dataclass(frozen=True)
class Page:
    """Rows to write, and the last key read (the next page starts after it)."""

    rows: list[Pending]
    last_key: str | None


class ReportMarks:
    """Marks of rows written per business unit and report kind."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def _mark(self, unit: str, kind: str, key: sa.ColumnElement[str]) -> sa.Select[Any]:
        return sa.select(_k.c.fingerprint).where(
            _k.c.unit == unit, _k.c.kind == kind, _k.c.key == key
        )

    async def report_page(
        self, unit: str, mid: str, kind: str, after: str | None, size: int
    ) -> Page:
        """Delivery/seen rows of the unit's messages (``kind`` sms or omni) not written yet."""
        family = _r.c.channel.in_(sorted(SMS_FAMILY))
        query = (
            sa.select(_r, self._mark(unit, kind, _r.c.message_id).scalar_subquery().label("mark"))
            .where(_r.c.callback_data.like(mid_pattern(mid)))
            .where(family if kind == SMS else sa.not_(family))
            .order_by(_r.c.message_id)
            .limit(size)
        )
        if after is not None:
            query = query.where(_r.c.message_id > after)
        async with self._engine.connect() as conn:
            rows = [dict(row._mapping) for row in await conn.execute(query)]
        pending: list[Pending] = []
        for row in rows:
            mapped = report_row(row, mid)
            if mapped is not None:
                _add(pending, row["message_id"], mapped, row["mark"])
        return Page(pending, rows[-1]["message_id"] if rows else None)

    async def inbound_page(self, unit: str, mid: str, after: str | None, size: int) -> Page:
        """Replies to the unit's messages not written yet."""
        query = (
            sa.select(
                _i,
                _o.c.callback_data.label("sent_callback"),
                self._mark(unit, INBOUND, _i.c.id).scalar_subquery().label("mark"),
            )
            .join(_o, _o.c.id == _i.c.in_reply_to)
            .where(_o.c.callback_data.like(mid_pattern(mid)))
            .order_by(_i.c.id)
            .limit(size)
        )
        if after is not None:
            query = query.where(_i.c.id > after)
        async with self._engine.connect() as conn:
            rows = [dict(row._mapping) for row in await conn.execute(query)]
        pending: list[Pending] = []
        for row in rows:
            mapped = inbound_row(row, row["sent_callback"], mid)
            if mapped is not None:
                _add(pending, row["id"], mapped, row["mark"])
        return Page(pending, rows[-1]["id"] if rows else None)

    async def events_due(self, unit: str, mid: str, size: int) -> list[Pending]:
        """Replies to the unit's messages whose journey asked for an event, not fired yet."""
        fired = sa.exists(self._mark(unit, EVENT, _i.c.id))
        query = (
            sa.select(_i, _o.c.callback_data.label("sent_callback"))
            .join(_o, _o.c.id == _i.c.in_reply_to)
            .join(reply_triggers, reply_triggers.c.message_id == _i.c.in_reply_to)
            .where(_o.c.callback_data.like(mid_pattern(mid)), sa.not_(fired))
            .order_by(_i.c.id)
            .limit(size)
        )
        async with self._engine.connect() as conn:
            rows = [dict(row._mapping) for row in await conn.execute(query)]
        due = []
        for row in rows:
            mapped = inbound_row(row, row["sent_callback"], mid)
            if mapped is not None:
                due.append(Pending(row["id"], mapped, ""))
        return due

    async def mark(self, unit: str, kind: str, written: Sequence[Pending]) -> None:
        """Record ``written`` in one transaction (a mark replaces the row's older one)."""
        if not written:
            return
        now = self._clock.now()
        keys = [each.key for each in written]
        async with self._engine.begin() as conn:
            await conn.execute(
                sa.delete(_k).where(_k.c.unit == unit, _k.c.kind == kind, _k.c.key.in_(keys))
            )
            await conn.execute(
                sa.insert(_k),
                [
                    {
                        "unit": unit,
                        "kind": kind,
                        "key": each.key,
                        "fingerprint": each.fingerprint,
                        "written_at": now,
                    }
                    for each in written
                ],
            )

    async def remember_trigger(self, message_id: str) -> None:
        """A journey asked for an event when ``message_id`` is replied to (once per message)."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    sa.insert(reply_triggers).values(
                        message_id=message_id, created_at=self._clock.now()
                    )
                )
        except sa.exc.IntegrityError:
            pass  # kept already (Journey Builder retried the call)


def _add(pending: list[Pending], key: str, row: dict[str, Any], mark: str | None) -> None:
    printed = fingerprint(row)
    if printed != mark:
        pending.append(Pending(key, row, printed))
