"""Export of persons to CSV or XLSX, all of them or those matching a filter, read a page at a
time (keyset) so memory stays flat however many persons there are. The columns are the ones
an import maps back automatically (id, emails, phones, attributes by name)."""

from __future__ import annotations

import asyncio
import csv
import io
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.people.attribute import STANDARD_ATTRIBUTES, AttributeDefinition
from peoplesync.people.model import Person
from peoplesync.people.person_filter import Checked
from peoplesync.people.person_search import iter_matching
from peoplesync.people.store import PeopleStore

CHUNK = 64 * 1024


def export_columns(definitions: Mapping[str, AttributeDefinition]) -> list[str]:
    """The header row."""
    return [
        "id",
        "emails",
        "phones",
        *STANDARD_ATTRIBUTES,
        *definitions,
        "created_at",
        "updated_at",
    ]


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value) or None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def export_row(person: Person, columns: Sequence[str]) -> list[Any]:
    """One person's cells in the order of ``columns``."""
    cells: list[Any] = []
    for column in columns:
        if column in ("id", "created_at", "updated_at", "emails", "phones"):
            cells.append(_cell(getattr(person, column)))
        else:
            cells.append(_cell(person.get(column)))
    return cells


async def csv_chunks(
    store: PeopleStore,
    engine: AsyncEngine,
    *,
    query: str = "",
    conditions: Sequence[Checked] = (),
) -> AsyncIterator[bytes]:
    """The CSV file (UTF-8 with a byte-order mark, so spreadsheets read it right) in pieces."""
    columns = export_columns(await store.attributes())
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    yield ("\ufeff" + buffer.getvalue()).encode()
    async for persons in iter_matching(store, engine, query=query, conditions=conditions):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(["" if c is None else c for c in export_row(p, columns)] for p in persons)
        yield buffer.getvalue().encode()


async def xlsx_chunks(
    store: PeopleStore,
    engine: AsyncEngine,
    *,
    query: str = "",
    conditions: Sequence[Checked] = (),
) -> AsyncIterator[bytes]:
    """The XLSX file in pieces: rows go to a write-only workbook (kept on disk, not in
    memory), which is then sent from a temporary file."""
    from openpyxl import Workbook

    columns = export_columns(await store.attributes())
    book = Workbook(write_only=True)
    sheet = book.create_sheet("People")
    sheet.append(columns)
    async for persons in iter_matching(store, engine, query=query, conditions=conditions):
        for person in persons:
            sheet.append(export_row(person, columns))
        await asyncio.sleep(0)
    with tempfile.TemporaryDirectory(prefix="peoplesync-export-") as folder:
        path = Path(folder) / "people.xlsx"
        await asyncio.to_thread(book.save, path)
        with path.open("rb") as handle:
            while piece := handle.read(CHUNK):
                yield piece


__all__ = ["csv_chunks", "export_columns", "export_row", "xlsx_chunks"]
