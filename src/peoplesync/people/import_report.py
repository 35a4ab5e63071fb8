"""What an import of persons did, row by row: the counts (which add up to the rows), the
rejected rows with their field and the rows merged into an earlier row's person."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from peoplesync.errors import RecordError
from peoplesync.people.row_tally import MergedRow, RowTally

MAX_REPORTED = 1000
_ROW = re.compile(r"row (\d+)")


@dataclass
class RowProblem:
    """One rejected row: where, which field, what is wrong."""

    row: int
    field: str | None
    code: str
    message: str
    hint: str

    def json(self) -> dict[str, Any]:
        """The problem in the REST API and the page."""
        return {
            "row": self.row,
            "field": self.field,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }


@dataclass
class DuplicateRow:
    """A row naming the same person as an earlier row of the file: merged into that person."""

    row: int
    duplicate_of: int
    field: str
    message: str

    def json(self) -> dict[str, Any]:
        """The duplicate in the REST API and the page."""
        return {
            "row": self.row,
            "duplicate_of": self.duplicate_of,
            "field": self.field,
            "message": self.message,
        }


def row_number(record: str | None) -> int:
    """The row number in a record name like ``row 12`` (0 when there is none)."""
    found = _ROW.fullmatch(record or "")
    return int(found.group(1)) if found else 0


@dataclass
class ImportReport:
    """What an import did (or, for a dry run, would do). Every row is counted once:
    rows = created + updated + unchanged + merged + rejected."""

    dry_run: bool
    mapping: dict[str, str]
    skipped_columns: list[str]
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    rejected: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    duplicates: list[DuplicateRow] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        """The report in the REST API."""
        return {
            "dry_run": self.dry_run,
            "mapping": self.mapping,
            "skipped_columns": self.skipped_columns,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "merged": self.merged,
            "rejected": self.rejected,
            "problems": [p.json() for p in self.problems],
            "problems_shown": len(self.problems),
            "duplicates": [d.json() for d in self.duplicates],
            "duplicates_shown": len(self.duplicates),
        }

    def add_problem(self, error: RecordError, row: int) -> None:
        """Keep a rejected row's problem; the first MAX_REPORTED are kept in full."""
        if len(self.problems) < MAX_REPORTED:
            hint = error.hint
            self.problems.append(RowProblem(row, error.field, error.code, error.detail, hint))

    def add_duplicate(self, merged: MergedRow) -> None:
        """Keep a merged row; the first MAX_REPORTED are kept in full."""
        if len(self.duplicates) < MAX_REPORTED:
            self.duplicates.append(
                DuplicateRow(
                    row_number(merged.record),
                    row_number(merged.duplicate_of),
                    merged.field,
                    merged.message,
                )
            )

    def count(self, tally: RowTally) -> None:
        """Take the row counts from ``tally``."""
        self.created, self.updated, self.unchanged = tally.created, tally.updated, tally.unchanged
        self.merged, self.rejected = len(tally.merged), tally.rejected


__all__ = ["MAX_REPORTED", "DuplicateRow", "ImportReport", "RowProblem", "row_number"]
