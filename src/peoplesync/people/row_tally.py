"""Counting an import row by row, so the counts add up: every row is created, updated,
unchanged, merged (a later row for a person an earlier row of the same import already
named) or rejected. A merged row is reported with the row it joined (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from peoplesync.people.contact_point import email_key
from peoplesync.people.model import PersonInput, UpsertResult


@dataclass(frozen=True, slots=True)
class MergedRow:
    """A row that named the same person as an earlier row: its values were merged in."""

    record: str
    duplicate_of: str
    field: str  # what matched: "emails" or "id"

    @property
    def message(self) -> str:
        """What happened, in words."""
        by = "email" if self.field == "emails" else "id"
        return (
            f"same {by} as {self.duplicate_of}: merged into the same person "
            f"(values given later win)"
        )


@dataclass(slots=True)
class RowTally:
    """Row counts over an import's batches (feed each batch with ``add``)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    merged: list[MergedRow] = field(default_factory=list)
    _first_row: dict[str, str] = field(default_factory=dict)  # person id -> first record
    _email_row: dict[str, str] = field(default_factory=dict)  # email key -> first record

    @property
    def rows(self) -> int:
        """Every row counted: the sum of the outcomes."""
        return self.created + self.updated + self.unchanged + len(self.merged) + self.rejected

    def add(self, inputs: Sequence[PersonInput], result: UpsertResult) -> None:
        """Count one batch: ``result.ids`` holds each input's person id (None: rejected).

        A person's outcome in the batch (created, updated, unchanged) goes to the first row
        that named them; the rows after it are merged rows. Emails are compared as well, so a
        dry run (nothing written between batches) still sees a repeat in a later batch.
        """
        created, updated = set(result.created), set(result.updated)
        for index, (item, person_id) in enumerate(zip(inputs, result.ids, strict=True)):
            record = item.key or f"#{index}"
            if person_id is None:
                self.rejected += 1
                continue
            keys = [email_key(raw) for raw in item.emails or ()]
            by_email = next((self._email_row[key] for key in keys if key in self._email_row), None)
            earlier = by_email or self._first_row.get(person_id)
            if earlier is not None:
                matched = "emails" if by_email or item.id is None else "id"
                self.merged.append(MergedRow(record, earlier, matched))
                continue
            self._first_row[person_id] = record
            for key in keys:
                self._email_row.setdefault(key, record)
            if person_id in created:
                self.created += 1
            elif person_id in updated:
                self.updated += 1
            else:
                self.unchanged += 1


__all__ = ["MergedRow", "RowTally"]
