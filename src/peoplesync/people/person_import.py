"""Import of persons from CSV or XLSX: columns mapped to attributes (automatically by header
name, or as the user says), rows validated and written in batches through the store's bulk path
(``apply_batch``). A bad row is reported with its row number and field; the good rows are
written all the same. A dry run validates and plans every batch and writes nothing.
"""

from __future__ import annotations

import asyncio
import csv
import re
from collections.abc import Generator, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import Any

from peoplesync.errors import ValidationError
from peoplesync.people.attribute import STANDARD_ATTRIBUTES, AttributeDefinition, AttributeType
from peoplesync.people.import_report import DuplicateRow, ImportReport, RowProblem, row_number
from peoplesync.people.model import PersonInput
from peoplesync.people.row_tally import RowTally
from peoplesync.people.store import PeopleStore

BATCH = 2000
MAX_COLUMNS = 200
CONTACT_TARGETS = ("emails", "phones")
_ALIASES = {
    "email": "emails",
    "e_mail": "emails",
    "email_address": "emails",
    "emails": "emails",
    "phone": "phones",
    "phones": "phones",
    "mobile": "phones",
    "mobile_phone": "phones",
    "phone_number": "phones",
    "id": "id",
    "person_id": "id",
    "firstname": "first_name",
    "given_name": "first_name",
    "lastname": "last_name",
    "surname": "last_name",
    "family_name": "last_name",
    "birthdate": "birth_date",
    "date_of_birth": "birth_date",
    "language": "preferred_language",
}
_SPLIT_EMAILS = re.compile(r"[;,\s]+")
_SPLIT_PHONES = re.compile(r"[;,\n]+")


class FileKind(StrEnum):
    """The file formats an import reads."""

    CSV = "csv"
    XLSX = "xlsx"


def file_kind(filename: str) -> FileKind:
    """The format by file name; ValidationError for anything else."""
    suffix = Path(filename).suffix.lower().lstrip(".")
    try:
        return FileKind(suffix)
    except ValueError:
        raise ValidationError(
            f"{filename!r} is neither a .csv nor a .xlsx file",
            record="upload",
            field="file",
            hint="upload a CSV (UTF-8) or an Excel .xlsx file",
        ) from None


SEPARATORS = (",", ";", "\t", "|")


def _delimiter(header: str) -> str:
    """The separator of a CSV file, judged by its header row: a comma, or the semicolon (what
    Excel writes where the decimal separator is a comma), tab or pipe when the header has
    more of it."""
    counts = {separator: header.count(separator) for separator in SEPARATORS}
    best = max(counts, key=lambda separator: counts[separator])
    return best if counts[best] > counts[","] else ","


def read_rows(path: Path, kind: FileKind) -> Generator[list[Any], None, None]:
    """The file's rows as lists of cell values, header first, read lazily."""
    if kind is FileKind.CSV:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            try:
                delimiter = _delimiter(handle.readline())
                handle.seek(0)
                yield from csv.reader(handle, delimiter=delimiter)
            except (UnicodeDecodeError, csv.Error) as exc:
                raise ValidationError(
                    f"the file cannot be read as CSV ({exc})",
                    record="upload",
                    field="file",
                    hint="save it as CSV with UTF-8 encoding",
                ) from None
        return
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ValidationError(
            f"the file cannot be read as XLSX ({type(exc).__name__})",
            record="upload",
            field="file",
            hint="save it from Excel or LibreOffice as .xlsx",
        ) from None
    try:
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        book.close()


def _normal(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


def auto_mapping(
    headers: Sequence[str], definitions: Mapping[str, AttributeDefinition]
) -> dict[str, str]:
    """Target attribute per header, matched by name (case, spaces and dashes ignored); headers
    that match nothing are left out. A custom attribute's exact name wins over aliases."""
    by_normal = {_normal(name): name for name in definitions}
    by_normal |= {name: name for name in STANDARD_ATTRIBUTES}
    mapping: dict[str, str] = {}
    for header in headers:
        key = _normal(header)
        target = by_normal.get(key) or _ALIASES.get(key)
        if target is not None and (target in CONTACT_TARGETS or target not in mapping.values()):
            mapping[header] = target
    return mapping


def check_mapping(
    mapping: Mapping[str, str],
    headers: Sequence[str],
    definitions: Mapping[str, AttributeDefinition],
) -> None:
    """Every mapped header exists and every target is an attribute (once), emails, phones or
    id; ValidationError names ``mapping.<header>``."""
    allowed = {*STANDARD_ATTRIBUTES, *definitions, *CONTACT_TARGETS, "id"}
    used: set[str] = set()
    for header, target in mapping.items():
        name = f"mapping.{header}"
        if header not in headers:
            raise ValidationError("the file has no such column", record="mapping", field=name)
        if target not in allowed:
            raise ValidationError(
                f"{target!r} is not an attribute",
                record="mapping",
                field=name,
                hint="map it to a standard or custom attribute, emails, phones or id",
            )
        if target in used and target not in CONTACT_TARGETS:
            raise ValidationError(
                f"another column is already mapped to {target!r}", record="mapping", field=name
            )
        used.add(target)


def _kind(target: str, definitions: Mapping[str, AttributeDefinition]) -> AttributeType:
    if target in STANDARD_ATTRIBUTES:
        return STANDARD_ATTRIBUTES[target].type
    if target in definitions:
        return definitions[target].type
    return AttributeType.TEXT


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).strip()


def cell_value(value: Any, kind: AttributeType) -> Any:
    """A cell as the attribute wants it: spreadsheet dates and numbers made to fit, text cells
    given as they are (the store checks them)."""
    if kind is AttributeType.TEXT:
        return _text(value)
    if kind is AttributeType.DATE and isinstance(value, datetime):
        return value.date() if value.time() == time(0) else value
    if kind is AttributeType.DATETIME and isinstance(value, datetime | date):
        moment = value if isinstance(value, datetime) else datetime.combine(value, time(0))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if kind is AttributeType.LIST:
        return [part.strip() for part in _text(value).split(";") if part.strip()]
    return value.strip() if isinstance(value, str) else value


def row_input(
    number: int,
    cells: Sequence[Any],
    columns: Sequence[tuple[int, str]],
    definitions: Mapping[str, AttributeDefinition],
) -> PersonInput | None:
    """A person from one row (None when every mapped cell is empty)."""
    values: dict[str, object] = {}
    emails: list[str] = []
    phones: list[str] = []
    person_id: str | None = None
    for index, target in columns:
        raw = cells[index] if index < len(cells) else None
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        if target == "emails":
            emails += [e for e in _SPLIT_EMAILS.split(_text(raw)) if e]
        elif target == "phones":
            phones += [p.strip() for p in _SPLIT_PHONES.split(_text(raw)) if p.strip()]
        elif target == "id":
            person_id = _text(raw)
        else:
            values[target] = cell_value(raw, _kind(target, definitions))
    if not values and not emails and not phones and person_id is None:
        return None
    return PersonInput(
        values=values,
        emails=emails or None,
        phones=phones or None,
        id=person_id,
        key=f"row {number}",
    )


def headers_of(path: Path, kind: FileKind) -> list[str]:
    """The header row (column names) of a file; ValidationError when it has none."""
    rows = read_rows(path, kind)
    try:
        first = next(rows, None)
    finally:
        rows.close()
    headers = [_text(cell) if cell is not None else "" for cell in first or []]
    if not any(headers):
        raise ValidationError(
            "the file is empty or its first row has no column names",
            record="upload",
            field="file",
            hint="put the column names (first_name, email...) in the first row",
        )
    if len(headers) > MAX_COLUMNS:
        raise ValidationError(
            f"has {len(headers)} columns, at most {MAX_COLUMNS} are read",
            record="upload",
            field="file",
        )
    return headers


def _nothing_mapped(
    headers: Sequence[str], definitions: Mapping[str, AttributeDefinition], *, given: bool
) -> ValidationError:
    """No column to import: rather than 0 rows read in silence, what was expected and found."""
    if given:
        return ValidationError(
            "no column is mapped to an attribute, so no row would be imported",
            record="mapping",
            field="mapping",
            hint="map at least one column (e.g. email) to an attribute",
        )
    expected = ["email", "phone", "id", *STANDARD_ATTRIBUTES, *sorted(definitions)]
    found = ", ".join(repr(h) for h in headers[:10]) + (" ..." if len(headers) > 10 else "")
    return ValidationError(
        f"no column matches a person attribute: expected columns named like "
        f"{', '.join(expected)}; found {len(headers)} column(s): {found}",
        record="upload",
        field="file",
        hint="name the columns in the first row, separated by commas, semicolons, tabs or |",
    )


def _next_rows(rows: Iterator[list[Any]], size: int) -> list[list[Any]]:
    return list(islice(rows, size))


async def run_import(
    store: PeopleStore,
    path: Path,
    kind: FileKind,
    *,
    mapping: Mapping[str, str] | None,
    origin: str,
    dry_run: bool,
    batch: int = BATCH,
) -> ImportReport:
    """Read, validate and (unless ``dry_run``) write the file's persons, batch by batch.

    The file is read in a worker thread a batch at a time, so a large file never sits in
    memory whole and the server keeps answering meanwhile.
    """
    definitions = await store.attributes()
    headers = headers_of(path, kind)
    chosen = dict(mapping) if mapping is not None else auto_mapping(headers, definitions)
    if not chosen:
        raise _nothing_mapped(headers, definitions, given=mapping is not None)
    check_mapping(chosen, headers, definitions)
    columns = [(i, chosen[h]) for i, h in enumerate(headers) if h in chosen]
    report = ImportReport(
        dry_run=dry_run,
        mapping=chosen,
        skipped_columns=[h for h in headers if h and h not in chosen],
    )
    tally = RowTally()
    rows = read_rows(path, kind)
    try:
        await asyncio.to_thread(_next_rows, rows, 1)  # the header
        number = 1
        while chunk := await asyncio.to_thread(_next_rows, rows, batch):
            inputs: list[PersonInput] = []
            for cells in chunk:
                number += 1
                item = row_input(number, cells, columns, definitions)
                if item is not None:
                    inputs.append(item)
            if not inputs:
                continue
            report.rows += len(inputs)
            result = await store.apply_batch(
                inputs, origin=origin, links=lambda _ids: (), dry_run=dry_run
            )
            seen = len(tally.merged)
            tally.add(inputs, result)
            for merged in tally.merged[seen:]:
                report.add_duplicate(merged)
            for error in result.rejected:
                report.add_problem(error, row_number(error.record))
    finally:
        rows.close()
    report.count(tally)
    return report


__all__ = [
    "DuplicateRow",
    "FileKind",
    "ImportReport",
    "RowProblem",
    "auto_mapping",
    "check_mapping",
    "file_kind",
    "headers_of",
    "read_rows",
    "row_input",
    "run_import",
]
