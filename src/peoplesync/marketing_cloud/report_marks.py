"""What report write-back has written, and what is still to write, on the People database.

A page of rows to write is read by key after the last page's last key; a row is pending when
it has no mark for the unit and kind, or a mark of another fingerprint (it changed since). The
marks of a page are committed in one transaction once the page is written, so a crash before
that writes the page again (upserts by primary key: no duplicate row) and loses nothing.

A pass reads only the rows changed since ``since`` (report rows by their ``changed_at``,
clicks and replies by when they were stored), where ``since`` is the unit's cursor for the
kind less a margin: the cursor is the newest change time a finished pass has read, but never
past the time the pass started (a row read early in a long pass may change again while the
pass goes on), and is saved after that pass's marks, so a crash before it re-reads rows the
marks then skip.
A finished pass moves the cursor to at least its start less the margin, so rows changed long
ago are not read again pass after pass. Rows changed before the margin's start that commit
late (a long transaction) are covered by the margin; report rows stored before the change
time was kept got their own latest time in migration 0018 (a row without one is read).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import Clock
from peoplesync.marketing_cloud.report_mapping import (
    CLICKS,
    EVENT,
    INBOUND,
    SMS,
    click_row,
    fingerprint,
    inbound_row,
    mid_pattern,
    report_row,
)
from peoplesync.marketing_cloud.tables import reply_triggers, report_marks, sync_cursors
from peoplesync.messaging.links.devices import BOT
from peoplesync.messaging.links.tables import link_clicks
from peoplesync.messaging.report_rows import SMS_FAMILY
from peoplesync.messaging.tables import inbound_messages, message_reports, outbound_messages

_k = report_marks
_r = message_reports
_i = inbound_messages
_o = outbound_messages
_c = link_clicks
_s = sync_cursors


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
    newest: datetime | None = None  # the newest change time among the rows read


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
        self,
        unit: str,
        mid: str,
        kind: str,
        after: str | None,
        size: int,
        since: datetime | None = None,
    ) -> Page:
        """Delivery/seen rows of the unit's messages (``kind`` sms or omni) not written yet,
        changed at or after ``since`` (all when ``None``)."""
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
        if since is not None:
            query = query.where(sa.or_(_r.c.changed_at.is_(None), _r.c.changed_at >= since))
        async with self._engine.connect() as conn:
            rows = [dict(row._mapping) for row in await conn.execute(query)]
        pending: list[Pending] = []
        for row in rows:
            mapped = report_row({k: v for k, v in row.items() if k != "changed_at"}, mid)
            if mapped is not None:
                _add(pending, row["message_id"], mapped, row["mark"])
        last = rows[-1]["message_id"] if rows else None
        return Page(pending, last, _newest(row["changed_at"] for row in rows))

    async def click_page(
        self, unit: str, mid: str, after: str | None, size: int, since: datetime | None = None
    ) -> Page:
        """Clicks on the unit's messages' tracked links (not a bot's link preview) not
        written yet, stored at or after ``since`` (a provider may report a click late)."""
        query = (
            sa.select(
                _c,
                self._mark(unit, CLICKS, sa.cast(_c.c.id, sa.String))
                .scalar_subquery()
                .label("mark"),
            )
            .where(_c.c.callback_data.like(mid_pattern(mid)), _c.c.device_type != BOT)
            .order_by(_c.c.id)
            .limit(size)
        )
        if after is not None:
            query = query.where(_c.c.id > int(after))
        if since is not None:
            query = query.where(sa.or_(_c.c.stored_at.is_(None), _c.c.stored_at >= since))
        async with self._engine.connect() as conn:
            rows = [dict(row._mapping) for row in await conn.execute(query)]
        pending: list[Pending] = []
        for row in rows:
            mapped = click_row(row, mid)
            if mapped is not None:
                _add(pending, str(row["id"]), mapped, row["mark"])
        last = str(rows[-1]["id"]) if rows else None
        return Page(pending, last, _newest(row["stored_at"] for row in rows))

    async def inbound_page(
        self, unit: str, mid: str, after: str | None, size: int, since: datetime | None = None
    ) -> Page:
        """Replies to the unit's messages not written yet, stored at or after ``since``."""
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
        if since is not None:
            query = query.where(_i.c.created_at >= since)
        async with self._engine.connect() as conn:
            rows = [dict(row._mapping) for row in await conn.execute(query)]
        pending: list[Pending] = []
        for row in rows:
            mapped = inbound_row(row, row["sent_callback"], mid)
            if mapped is not None:
                _add(pending, row["id"], mapped, row["mark"])
        last = rows[-1]["id"] if rows else None
        return Page(pending, last, _newest(row["created_at"] for row in rows))

    async def cursor(self, unit: str, kind: str) -> datetime | None:
        """The newest change time a finished pass read for the unit and kind."""
        async with self._engine.connect() as conn:
            return (
                await conn.execute(
                    sa.select(_s.c.changed_at).where(_s.c.unit == unit, _s.c.kind == kind)
                )
            ).scalar()

    async def save_cursor(self, unit: str, kind: str, changed_at: datetime) -> None:
        """Move the cursor forward to ``changed_at`` (never back)."""
        async with self._engine.begin() as conn:
            moved = await conn.execute(
                sa.update(_s)
                .where(_s.c.unit == unit, _s.c.kind == kind, _s.c.changed_at < changed_at)
                .values(changed_at=changed_at)
            )
            if moved.rowcount:
                return
            exists = await conn.execute(
                sa.select(_s.c.unit).where(_s.c.unit == unit, _s.c.kind == kind)
            )
            if exists.first() is None:
                await conn.execute(
                    sa.insert(_s).values(unit=unit, kind=kind, changed_at=changed_at)
                )

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


def _newest(times: Iterable[datetime | None]) -> datetime | None:
    known = [each for each in times if each is not None]
    return max(known) if known else None


def _add(pending: list[Pending], key: str, row: dict[str, Any], mark: str | None) -> None:
    printed = fingerprint(row)
    if printed != mark:
        pending.append(Pending(key, row, printed))
