"""Polling cursors over SystemModstamp (pure).

A cursor is the (SystemModstamp, Id) of the last record applied. The next poll asks for
records with ``SystemModstamp >= cursor - overlap`` (a closed lower bound) ordered by
``SystemModstamp, Id``, so that a record committed late, with a stamp a little behind the
cursor, is still seen. Records at or before the cursor position that were already applied
come back in the overlap; the runner recognises them by the link's last synced state.
Pages inside one poll continue after the last (SystemModstamp, Id) returned, which cannot
skip records that share a stamp.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from peoplesync.salesforce.soql import guard_where, soql

DEFAULT_OVERLAP = timedelta(minutes=2)


@dataclass(frozen=True, slots=True, order=True)
class Cursor:
    """Position after the last applied record: its SystemModstamp and Id."""

    modstamp: datetime
    record_id: str = ""

    def to_json(self) -> dict[str, str]:
        """A JSON form to store with the data it describes."""
        return {"modstamp": self.modstamp.isoformat(), "record_id": self.record_id}

    @classmethod
    def from_json(cls, data: Mapping[str, str]) -> Cursor:
        """Read a cursor stored by ``to_json``."""
        return cls(datetime.fromisoformat(data["modstamp"]), data["record_id"])


def parse_modstamp(value: str) -> datetime:
    """Read a Salesforce datetime (``2024-05-01T12:00:00.000+0000``) as aware UTC."""
    text = value.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    return datetime.fromisoformat(text).astimezone(UTC)


def poll_where(
    cursor: Cursor | None,
    *,
    overlap: timedelta = DEFAULT_OVERLAP,
    after: Cursor | None = None,
    condition: str | None = None,
) -> str:
    """The WHERE clause of a poll (empty when it reads everything); see ``poll_query``."""
    clauses = []
    if cursor is not None:
        clauses.append(soql("SystemModstamp >= {}", cursor.modstamp - overlap))
    if after is not None:
        clauses.append(
            soql(
                "(SystemModstamp > {} OR (SystemModstamp = {} AND Id > {}))",
                after.modstamp,
                after.modstamp,
                after.record_id,
            )
        )
    if condition:
        clauses.append(f"({guard_where(condition)})")
    return " WHERE " + " AND ".join(clauses) if clauses else ""


def poll_query(
    sobject: str,
    fields: Sequence[str],
    cursor: Cursor | None,
    *,
    overlap: timedelta = DEFAULT_OVERLAP,
    after: Cursor | None = None,
    condition: str | None = None,
    limit: int | None = None,
    ordered: bool = True,
) -> str:
    """The SOQL of one polling page.

    ``cursor`` is the committed position (None: from the beginning); ``after`` is the last
    record of the previous page of the same poll. ``ordered=False`` leaves out ORDER BY, for
    Bulk API 2.0 jobs (which do not support it; it would disable their PK chunking).
    """
    wanted = list(dict.fromkeys(["Id", "SystemModstamp", *fields]))
    query = soql("SELECT {:names} FROM {:name}", wanted, sobject)
    query += poll_where(cursor, overlap=overlap, after=after, condition=condition)
    if ordered:
        query += " ORDER BY SystemModstamp ASC, Id ASC"
    if limit is not None:
        query += f" LIMIT {int(limit)}"
    return query


def count_query(
    sobject: str,
    cursor: Cursor | None,
    *,
    overlap: timedelta = DEFAULT_OVERLAP,
    condition: str | None = None,
) -> str:
    """``SELECT COUNT()`` over the records the poll from ``cursor`` would read."""
    return soql("SELECT COUNT() FROM {:name}", sobject) + poll_where(
        cursor, overlap=overlap, condition=condition
    )


@dataclass(frozen=True, slots=True)
class BulkProgress:
    """How far an unordered Bulk API read has been applied; committed with every batch.

    ``locator`` names the results page being applied (None: the first), ``skip`` how many of
    its records are already applied; ``highest`` is the greatest position applied so far, which
    becomes the cursor once the whole job is applied.
    """

    job_id: str
    locator: str | None = None
    skip: int = 0
    applied: int = 0
    total: int = 0
    highest: Cursor | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON form for the step's state."""
        return {
            "job_id": self.job_id,
            "locator": self.locator,
            "skip": self.skip,
            "applied": self.applied,
            "total": self.total,
            "highest": self.highest.to_json() if self.highest else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BulkProgress:
        """Read what ``to_json`` wrote."""
        highest = data.get("highest")
        return cls(
            str(data["job_id"]),
            data.get("locator"),
            int(data.get("skip") or 0),
            int(data.get("applied") or 0),
            int(data.get("total") or 0),
            Cursor.from_json(highest) if highest else None,
        )


def load_state(data: Mapping[str, Any] | None) -> tuple[Cursor | None, BulkProgress | None]:
    """The committed cursor and, while a bulk read is under way, its progress."""
    if not data:
        return None, None
    cursor = Cursor.from_json(data) if data.get("modstamp") else None
    bulk = BulkProgress.from_json(data["bulk"]) if data.get("bulk") else None
    return cursor, bulk


def dump_state(cursor: Cursor | None, bulk: BulkProgress | None = None) -> dict[str, Any]:
    """The step's state: the cursor, plus the progress of an unfinished bulk read."""
    state: dict[str, Any] = dict(cursor.to_json()) if cursor else {}
    if bulk is not None:
        state["bulk"] = bulk.to_json()
    return state


def position(record: Mapping[str, Any]) -> Cursor:
    """The cursor position of a record returned by a poll."""
    return Cursor(parse_modstamp(str(record["SystemModstamp"])), str(record["Id"]))


def advance(cursor: Cursor | None, records: Iterable[Mapping[str, Any]]) -> Cursor | None:
    """The cursor after applying ``records``: never moves backwards."""
    best = cursor
    for record in records:
        here = position(record)
        if best is None or here > best:
            best = here
    return best
