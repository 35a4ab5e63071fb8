"""The push mark on a link's state, and the inbound decision it drives: a record read before a
push wrote a field does not bring the field's older value back to People."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from peoplesync.sync.outbound.push_mark import (
    MARK,
    carried_marks,
    kept_state,
    marked,
    pushed_at,
    record_time,
    stale_fields,
    synced_values,
    with_sent,
)

SENT = datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=UTC)
BEFORE = "2026-11-25T11:59:59.000+0000"
SAME_MS = "2026-11-25T12:00:00.123+0000"
AFTER = "2026-11-25T12:00:01.000+0000"


def pushed() -> dict[str, object]:
    return marked({"Title": "Countess", "City": "London"}, {"Title": "Engineer"}, SENT)


def test_a_push_marks_the_fields_it_wrote_with_the_time_and_the_value_before() -> None:
    state = pushed()
    assert synced_values(state) == {"Title": "Engineer", "City": "London"}
    assert pushed_at(state) == {"Title": SENT.replace(microsecond=123000)}  # Salesforce's ms
    assert state[MARK] == {
        "Title": {"at": "2026-11-25T12:00:00.123000+00:00", "were": ["Countess"]}
    }
    later = marked(state, {"City": "Leeds"}, SENT + timedelta(seconds=5))
    assert set(pushed_at(later)) == {"Title", "City"}  # an earlier mark keeps its own time
    assert pushed_at(later)["Title"] == pushed_at(state)["Title"]
    assert synced_values(later) == {"Title": "Engineer", "City": "Leeds"}


def test_a_record_read_before_the_push_is_stale_for_the_pushed_fields_only() -> None:
    state = pushed()
    for modstamp in (BEFORE, SAME_MS):
        record = {"Id": "00Q1", "SystemModstamp": modstamp}
        snapshot = {"Title": "Countess", "City": "Leeds"}
        assert stale_fields(record, snapshot, state) == {"Title"}


def test_later_records_unmarked_fields_and_real_edits_are_applied() -> None:
    state = pushed()
    old = {"Title": "Countess", "City": "London"}
    assert stale_fields({"SystemModstamp": AFTER}, old, state) == set()  # read after the write
    assert stale_fields({"SystemModstamp": BEFORE}, {**old, "Title": "Engineer"}, state) == set()
    # A value that is neither the pushed one nor the one before is a real Salesforce edit.
    assert stale_fields({"SystemModstamp": BEFORE}, {**old, "Title": "Duchess"}, state) == set()
    assert stale_fields({}, old, state) == set()  # no time: nothing is skipped
    assert stale_fields({"SystemModstamp": BEFORE}, old, {"Title": "Engineer"}) == set()


def test_last_modified_date_stands_in_for_a_missing_system_modstamp() -> None:
    assert record_time({"LastModifiedDate": BEFORE}) == datetime(
        2026, 11, 25, 11, 59, 59, tzinfo=UTC
    )
    assert record_time({"SystemModstamp": AFTER, "LastModifiedDate": BEFORE}) == datetime(
        2026, 11, 25, 12, 0, 1, tzinfo=UTC
    )
    assert stale_fields({"LastModifiedDate": BEFORE}, {"Title": "Countess"}, pushed()) == {"Title"}


def test_the_inbound_state_keeps_the_pushed_value_and_mark_of_stale_fields_only() -> None:
    state = pushed()
    snapshot = {"Title": "Countess", "City": "Leeds"}
    kept = kept_state(snapshot, state, {"Title"})
    assert synced_values(kept) == {"Title": "Engineer", "City": "Leeds"}
    assert set(kept[MARK]) == {"Title"}  # type: ignore[arg-type]
    # The same old read again is still stale; a read after the write clears the mark.
    assert stale_fields({"SystemModstamp": BEFORE}, snapshot, kept) == {"Title"}
    assert kept_state({"Title": "Engineer", "City": "Leeds"}, kept, set()) == {
        "Title": "Engineer",
        "City": "Leeds",
    }


def test_marks_travel_with_values_taken_from_a_pushed_state() -> None:
    state = pushed()
    merged = carried_marks({"Title": "Engineer", "City": "Leeds"}, state, ["Title"])
    assert merged[MARK] == state[MARK]
    assert carried_marks({"City": "Leeds"}, state, []) == {"City": "Leeds"}
    assert carried_marks({"City": "Leeds"}, {"City": "x"}, ["City"]) == {"City": "Leeds"}


def test_a_mark_remembers_the_values_before_every_push_since_the_last_inbound_read() -> None:
    twice = marked(pushed(), {"Title": "Engineer II"}, SENT + timedelta(seconds=5))
    assert twice[MARK]["Title"]["were"] == ["Countess", "Engineer"]  # type: ignore[index]
    # A record read before both writes holds the value from before the first.
    before = {"SystemModstamp": BEFORE}
    assert stale_fields(before, {"Title": "Countess"}, twice) == {"Title"}
    assert stale_fields(before, {"Title": "Engineer"}, twice) == {"Title"}
    assert stale_fields(before, {"Title": "Duchess"}, twice) == set()
    # The newest few are kept; one seen again moves to the end.
    state: dict[str, object] = {"Title": "v0"}
    for n in range(1, 12):
        state = marked(state, {"Title": f"v{n}"}, SENT)
    assert state[MARK]["Title"]["were"] == [f"v{n}" for n in range(3, 11)]  # type: ignore[index]
    back = marked(marked({"Title": "A"}, {"Title": "B"}, SENT), {"Title": "A"}, SENT)
    assert marked(back, {"Title": "C"}, SENT)[MARK]["Title"]["were"] == ["B", "A"]  # type: ignore[index]


def test_an_old_mark_with_one_value_before_is_still_read() -> None:
    state = {"Title": "Engineer", MARK: {"Title": {"at": SENT.isoformat(), "was": "Countess"}}}
    assert stale_fields({"SystemModstamp": BEFORE}, {"Title": "Countess"}, state) == {"Title"}
    again = marked(state, {"Title": "Poet"}, SENT)
    assert again[MARK]["Title"]["were"] == ["Countess", "Engineer"]  # type: ignore[index]


def test_a_value_an_uncommitted_push_sent_counts_among_the_values_before() -> None:
    state = marked({"City": "London"}, {"City": "Rome"}, SENT, {"City": "Paris", "Title": "x"})
    assert state[MARK]["City"]["were"] == ["London", "Paris"]  # type: ignore[index]
    assert set(state[MARK]) == {"City"}  # type: ignore[arg-type]


def test_a_record_holding_what_an_uncommitted_push_sent_is_synced_in_those_fields() -> None:
    state = {"City": "London", "Title": "Countess", MARK: {}}
    sent = {"City": "Paris", "Title": "Engineer"}
    record = {"City": "Paris", "Title": "Duchess"}  # the Title write did not last
    assert with_sent(state, sent, record) == {"City": "Paris", "Title": "Countess", MARK: {}}
    assert with_sent(state, None, record) == state
    assert with_sent(state, {"Street": "1 Road"}, record) == state  # a field not read
