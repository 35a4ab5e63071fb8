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


def poll_query(
    sobject: str,
    fields: Sequence[str],
    cursor: Cursor | None,
    *,
    overlap: timedelta = DEFAULT_OVERLAP,
    after: Cursor | None = None,
    condition: str | None = None,
    limit: int | None = None,
) -> str:
    """The SOQL of one polling page.

    ``cursor`` is the committed position (None: from the beginning); ``after`` is the last
    record of the previous page of the same poll.
    """
    wanted = list(dict.fromkeys(["Id", "SystemModstamp", *fields]))
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
    query = soql("SELECT {:names} FROM {:name}", wanted, sobject)
    if clauses:
        query += " WHERE " + " AND ".join(clauses)
    query += " ORDER BY SystemModstamp ASC, Id ASC"
    if limit is not None:
        query += f" LIMIT {int(limit)}"
    return query


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
