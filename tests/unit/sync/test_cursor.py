"""Cursor arithmetic: closed lower bound, overlap, Id tie-breaker, never backwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from peoplesync.sync.inbound.cursor import Cursor, advance, parse_modstamp, poll_query, position

BASE = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def stamp(seconds: int) -> str:
    return (BASE + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def test_parse_salesforce_datetimes() -> None:
    assert parse_modstamp("2026-05-01T12:00:00.000+0000") == BASE
    assert parse_modstamp("2026-05-01T14:00:00+02:00") == BASE
    assert parse_modstamp("2026-05-01T12:00:00Z") == BASE


def test_first_poll_and_overlap_query() -> None:
    assert poll_query("Lead", ["Email"], None) == (
        "SELECT Id, SystemModstamp, Email FROM Lead ORDER BY SystemModstamp ASC, Id ASC"
    )
    query = poll_query(
        "Lead",
        ["Email", "Id"],
        Cursor(BASE, "00Q1"),
        overlap=timedelta(seconds=30),
        after=Cursor(BASE, "00Q5"),
        condition="Status = 'Open'",
        limit=2000,
    )
    assert query == (
        "SELECT Id, SystemModstamp, Email FROM Lead WHERE SystemModstamp >= 2026-05-01T11:59:30Z"
        " AND (SystemModstamp > 2026-05-01T12:00:00Z OR (SystemModstamp = 2026-05-01T12:00:00Z"
        " AND Id > '00Q5')) AND (Status = 'Open') ORDER BY SystemModstamp ASC, Id ASC LIMIT 2000"
    )


records = st.lists(
    st.tuples(st.integers(0, 50), st.from_regex(r"00Q[0-9A-Z]{3}", fullmatch=True)),
    min_size=1,
    max_size=30,
).map(lambda rows: [{"SystemModstamp": stamp(s), "Id": i} for s, i in rows])


@given(records, records)
def test_advance_never_moves_backwards_and_reaches_the_max(
    first: list[dict[str, str]], second: list[dict[str, str]]
) -> None:
    after_first = advance(None, first)
    after_both = advance(after_first, second)
    assert after_first is not None
    assert after_both is not None
    assert after_both >= after_first
    assert after_both == max(position(r) for r in first + second)


def test_cursor_json_round_trip() -> None:
    cursor = Cursor(BASE, "00Q8d000000000AAA")
    assert Cursor.from_json(cursor.to_json()) == cursor
