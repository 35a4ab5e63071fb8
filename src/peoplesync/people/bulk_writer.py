"""Fast row writes for large batches: executemany on SQLite, COPY on PostgreSQL.

SQLAlchemy's per-row parameter processing costs more than the database itself at a
million rows, so the hot paths hand plain tuples to the driver. Values are converted
here the way the table types would store them, so SQLAlchemy reads them back unchanged.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection


class _GcPauses:
    """Open pauses of the cyclic garbage collector. Coroutines hold pauses across awaits, so
    they may open and close them interleaved: the collector comes back when the last one
    closes (and only if it was on when the first opened)."""

    def __init__(self) -> None:
        self.open = 0
        self.resume = False


_PAUSES = _GcPauses()


@contextmanager
def paused_gc() -> Iterator[None]:
    """Hold the cyclic garbage collector during a batch (its rows form no cycles): a full
    collection walks every live object, which costs tens of milliseconds a time with a
    batch's worth of rows in memory."""
    if _PAUSES.open == 0:
        _PAUSES.resume = gc.isenabled()
        gc.disable()
    _PAUSES.open += 1
    try:
        yield
    finally:
        _PAUSES.open -= 1
        if _PAUSES.open == 0 and _PAUSES.resume:
            gc.enable()


class BulkWriter:
    """Inserts and updates rows given as tuples in the column order of each call."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"

    def _convert(self, table: sa.Table, columns: Sequence[str]) -> list[Any]:
        converters: list[Any] = []
        for name in columns:
            column_type = table.c[name].type
            if isinstance(column_type, sa.TypeDecorator) and isinstance(
                column_type.impl, sa.DateTime
            ):
                converters.append(None if self.postgres else _sqlite_datetime)
            elif isinstance(column_type, sa.JSON) or isinstance(
                getattr(column_type, "impl", None), sa.JSON
            ):
                converters.append(_json)
            elif isinstance(column_type, sa.Boolean) and not self.postgres:
                converters.append(_bool)
            else:
                converters.append(None)
        return converters

    def _rows(
        self, table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> list[Any]:
        converters = [(i, c) for i, c in enumerate(self._convert(table, columns)) if c is not None]
        if not converters or not rows:
            return list(rows)
        # Column by column: the transposes run in C, and a column's converter is looked up
        # once. Batches share timestamps; each distinct one is converted once.
        values: list[Any] = list(zip(*rows, strict=True))
        for index, convert in converters:
            memo: dict[Any, Any] = {}
            converted: list[Any] = []
            for value in values[index]:
                if value is None:
                    converted.append(None)
                elif type(value) is datetime:
                    done = memo.get(value)
                    if done is None:
                        done = memo[value] = convert(value)
                    converted.append(done)
                else:
                    converted.append(convert(value))
            values[index] = converted
        return list(zip(*values, strict=True))

    async def insert(
        self, table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert ``rows`` (tuples in ``columns`` order)."""
        if not rows:
            return
        values = self._rows(table, columns, rows)
        names = ", ".join(f'"{c}"' for c in columns)
        if self.postgres:
            raw = await self.conn.get_raw_connection()
            driver: Any = raw.driver_connection
            statement = f'COPY "{table.name}" ({names}) FROM STDIN'
            try:
                async with driver.cursor() as cursor, cursor.copy(statement) as copy:
                    for row in values:
                        await copy.write_row(row)
            except psycopg.IntegrityError as exc:
                # Raised by the driver itself; give callers SQLAlchemy's exception as elsewhere.
                raise sa.exc.IntegrityError(statement, None, exc) from exc
            except psycopg.OperationalError as exc:
                raise sa.exc.OperationalError(statement, None, exc) from exc
            return
        marks = ", ".join("?" for _ in columns)
        await self.conn.exec_driver_sql(
            f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', values
        )

    async def fetch_in(
        self,
        table: sa.Table,
        columns: Sequence[str],
        key: str,
        values: Sequence[Any],
        order_by: Sequence[str] = (),
        where: Mapping[str, Any] | None = None,
    ) -> list[tuple[Any, ...]]:
        """Rows whose ``key`` is one of ``values`` (and whose ``where`` columns equal the
        given values), as tuples in ``columns`` order."""
        if not values:
            return []
        names = ", ".join(f'"{c}"' for c in columns)
        order = (
            f" ORDER BY {', '.join(chr(34) + c + chr(34) for c in order_by)}" if order_by else ""
        )
        condition, parameters = self._where_in(key, values, where)
        result = await self.conn.exec_driver_sql(
            f'SELECT {names} FROM "{table.name}" WHERE {condition}{order}', parameters
        )
        rows = result.all()
        readers = [(i, r) for i, r in enumerate(self._readers(table, columns)) if r is not None]
        if not readers:
            return [tuple(row) for row in rows]
        out = []
        for row in rows:
            items = list(row)
            for index, read in readers:
                if items[index] is not None:
                    items[index] = read(items[index])
            out.append(tuple(items))
        return out

    def _where_in(
        self, key: str, values: Sequence[Any], where: Mapping[str, Any] | None
    ) -> tuple[str, tuple[Any, ...]]:
        mark = "%s" if self.postgres else "?"
        equal = [f'"{name}" = {mark}' for name in where or {}]
        marks = ", ".join(mark for _ in values)
        condition = " AND ".join([*equal, f'"{key}" IN ({marks})'])
        return condition, (*(where or {}).values(), *values)

    async def delete_in(
        self,
        table: sa.Table,
        key: str,
        values: Sequence[Any],
        where: Mapping[str, Any] | None = None,
    ) -> None:
        """Delete the rows whose ``key`` is one of ``values`` (and whose ``where`` columns
        equal the given values)."""
        if not values:
            return
        condition, parameters = self._where_in(key, values, where)
        await self.conn.exec_driver_sql(f'DELETE FROM "{table.name}" WHERE {condition}', parameters)

    def _readers(self, table: sa.Table, columns: Sequence[str]) -> list[Any]:
        readers: list[Any] = []
        for name in columns:
            column_type = table.c[name].type
            if isinstance(column_type, sa.TypeDecorator) and isinstance(
                column_type.impl, sa.DateTime
            ):
                readers.append(_utc if self.postgres else _sqlite_datetime_in)
            elif isinstance(column_type, sa.JSON) and not self.postgres:
                readers.append(json.loads)
            elif isinstance(column_type, sa.Boolean) and not self.postgres:
                readers.append(bool)
            else:
                readers.append(None)
        return readers

    async def update(
        self,
        table: sa.Table,
        key: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        guards: Sequence[str] = (),
    ) -> int:
        """Update rows by ``key``; each row holds ``columns``, the key value, then the values
        the ``guards`` columns must still have (a row whose guard moved is left as it is).
        Returns how many rows were updated."""
        if not rows:
            return 0
        values = self._rows(table, [*columns, key, *guards], rows)
        mark = "%s" if self.postgres else "?"
        sets = ", ".join(f'"{c}" = {mark}' for c in columns)
        where = " AND ".join(f'"{c}" = {mark}' for c in (key, *guards))
        result = await self.conn.exec_driver_sql(
            f'UPDATE "{table.name}" SET {sets} WHERE {where}', values
        )
        return int(result.rowcount)


def _sqlite_datetime(value: datetime) -> str:
    # The layout SQLAlchemy's SQLite DateTime stores: naive UTC with microseconds.
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _sqlite_datetime_in(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _json(value: Any) -> str:
    if type(value) is dict and not value:
        return "{}"  # most persons' custom attributes
    return _ENCODE(value)


_ENCODE = json.JSONEncoder(separators=(",", ":")).encode


def _bool(value: Any) -> int:
    return 1 if value else 0
