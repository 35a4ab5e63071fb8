"""Row counts of an import add up: created + updated + unchanged + merged + rejected = rows."""

from __future__ import annotations

from peoplesync.errors import ValidationError
from peoplesync.people.model import PersonInput, UpsertResult
from peoplesync.people.row_tally import MergedRow, RowTally


def row(number: int, *emails: str, person_id: str | None = None) -> PersonInput:
    return PersonInput(emails=list(emails) or None, id=person_id, key=f"row {number}")


def test_repeats_within_and_across_batches_are_merged_rows() -> None:
    tally = RowTally()
    tally.add(
        [row(2, "a@x.example"), row(3, "b@x.example"), row(4, "A@X.example"), row(5, "bad")],
        UpsertResult(
            created=["p1"],
            updated=["p2"],
            rejected=[ValidationError("bad", record="row 5", field="emails[0]")],
            ids=["p1", "p2", "p1", None],
        ),
    )
    # A dry run gives a repeat in a later batch a new id: the email still finds row 2.
    tally.add(
        [row(6, "a@x.example"), row(7, person_id="p2"), row(8, "c@x.example")],
        UpsertResult(created=["p9"], unchanged=["p2", "p3"], ids=["p9", "p2", "p3"]),
    )
    assert (tally.created, tally.updated, tally.unchanged, tally.rejected) == (1, 1, 1, 1)
    assert tally.merged == [
        MergedRow("row 4", "row 2", "emails"),
        MergedRow("row 6", "row 2", "emails"),
        MergedRow("row 7", "row 3", "id"),
    ]
    assert tally.rows == 7  # rows 2 to 8
    assert tally.merged[2].message.startswith("same id as row 3: merged into the same person")
