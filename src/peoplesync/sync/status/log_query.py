"""The operation log and the record problems, filtered and read a page at a time (keyset
pagination: a page starts after the last row of the previous one, however long the log)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.errors import ValidationError
from peoplesync.people import tables as t

MAX_LIMIT = 200
FAILED_OUTCOMES = ("failed", "partial")


@dataclass(frozen=True)
class LogFilter:
    """What to show: a time range, an operation, an object (step), a record, errors only."""

    since: datetime | None = None
    until: datetime | None = None
    operation: str = ""
    object: str = ""
    record: str = ""
    code: str = ""
    errors_only: bool = False


def _invalid(message: str, field: str, hint: str = "") -> ValidationError:
    return ValidationError(message, record="log filter", field=field, hint=hint)


def parse_time(value: str | None, field: str, *, end: bool = False) -> datetime | None:
    """An ISO date or date-time (UTC unless it says otherwise); a date alone means its
    start, or its end for ``end``."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _invalid(
            f"{text[:40]!r} is not a date or time", field, "use 2026-11-25 or 2026-11-25T14:30"
        ) from None


def log_filter(
    *,
    since: str | None = None,
    until: str | None = None,
    operation: str = "",
    object: str = "",
    record: str = "",
    code: str = "",
    errors_only: bool = False,
) -> LogFilter:
    """A checked filter from request values."""
    for field, value in (
        ("since", since),
        ("until", until),
        ("operation", operation),
        ("object", object),
        ("record", record),
        ("code", code),
    ):
        if value and any(ord(char) < 32 for char in value):
            raise _invalid("control characters are not allowed", field)
    start = parse_time(since, "since")
    stop = parse_time(until, "until", end=True)
    if start and stop and start > stop:
        raise _invalid("the range ends before it starts", "until")
    return LogFilter(
        start,
        stop,
        operation.strip(),
        object.strip(),
        record.strip(),
        code.strip(),
        errors_only,
    )


def _encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode(cursor: str, size: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != size:
        raise _invalid("the page cursor is not valid", "after", "start from the first page")
    return values


@dataclass(frozen=True)
class Page:
    """Rows of one page and the cursor of the next (None on the last page)."""

    items: list[dict[str, Any]]
    next: str | None


def _matching(
    table: sa.Table,
    integration: str,
    *conditions: tuple[object, Callable[[], sa.ColumnElement[bool]]],
) -> sa.Select[Any]:
    """The rows of ``integration`` in ``table`` that meet each condition whose filter value
    is set (a condition is built only then)."""
    query = sa.select(table).where(table.c.integration == integration)
    return query.where(*(condition() for value, condition in conditions if value))


async def operations_page(
    engine: AsyncEngine,
    integration: str,
    where: LogFilter,
    *,
    after: str | None = None,
    limit: int = 50,
) -> Page:
    """Log entries matching ``where``, newest first."""
    ops = t.sync_operations
    query = _matching(
        ops,
        integration,
        (where.since, lambda: ops.c.at >= where.since),
        (where.until, lambda: ops.c.at <= where.until),
        (where.operation, lambda: ops.c.operation == where.operation),
        (where.object, lambda: ops.c.object == where.object),
        (where.record, lambda: ops.c.detail.contains(where.record, autoescape=True)),
        (where.errors_only, lambda: ops.c.outcome.in_(FAILED_OUTCOMES)),
    )
    if after:
        (seq,) = _decode(after, 1)
        if not isinstance(seq, int) or not 0 <= seq < 2**63:
            raise _invalid("the page cursor is not valid", "after")
        query = query.where(ops.c.seq < seq)
    limit = max(1, min(limit, MAX_LIMIT))
    async with engine.connect() as conn:
        rows = (await conn.execute(query.order_by(ops.c.seq.desc()).limit(limit + 1))).all()
    items = [
        {
            "at": r.at.isoformat(),
            "operation": r.operation,
            "object": r.object,
            "records": r.records,
            "outcome": r.outcome,
            "detail": r.detail,
        }
        for r in rows[:limit]
    ]
    return Page(items, _encode([rows[limit - 1].seq]) if len(rows) > limit else None)


async def problems_page(
    engine: AsyncEngine,
    integration: str,
    where: LogFilter,
    *,
    after: str | None = None,
    limit: int = 50,
) -> Page:
    """Record problems (errors and warnings) matching ``where``, last seen first."""
    p = t.sync_problems
    query = _matching(
        p,
        integration,
        (where.since, lambda: p.c.last_seen >= where.since),
        (where.until, lambda: p.c.first_seen <= where.until),
        (where.object, lambda: p.c.step == where.object),
        (where.record, lambda: p.c.record_id == where.record),
        (where.code, lambda: p.c.code == where.code),
        (where.errors_only, lambda: p.c.severity == "error"),
    )
    key = (p.c.last_seen, p.c.step, p.c.code, p.c.record_id)
    if after:
        values = _decode(after, 4)
        if not all(isinstance(value, str) for value in values):
            raise _invalid("the page cursor is not valid", "after")
        seen, step, code, record = values
        try:
            moment = datetime.fromisoformat(seen).astimezone(UTC)
            if datetime.fromisoformat(seen).tzinfo is None:
                raise ValueError(seen)
        except (ValueError, OverflowError):
            raise _invalid("the page cursor is not valid", "after") from None
        query = query.where(
            sa.tuple_(*key) < sa.tuple_(sa.literal(moment, p.c.last_seen.type), step, code, record)
        )
    limit = max(1, min(limit, MAX_LIMIT))
    order = [column.desc() for column in key]
    async with engine.connect() as conn:
        rows = (await conn.execute(query.order_by(*order).limit(limit + 1))).all()
    items = [
        {
            "record": r.record_id,
            "step": r.step,
            "code": r.code,
            "severity": r.severity,
            "field": r.field,
            "message": r.message,
            "hint": r.hint,
            "count": r.count,
            "first_seen": r.first_seen.isoformat(),
            "last_seen": r.last_seen.isoformat(),
        }
        for r in rows[:limit]
    ]
    last = rows[limit - 1] if len(rows) > limit else None
    cursor = (
        _encode([last.last_seen.isoformat(), last.step, last.code, last.record_id])
        if last is not None
        else None
    )
    return Page(items, cursor)


__all__ = ["LogFilter", "Page", "log_filter", "operations_page", "problems_page"]
