"""Pure outbound decisions: values, echoes, the change-log position with gaps, retries."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from peoplesync.people.attribute import AttributeDefinition, AttributeType
from peoplesync.people.model import Change, Person
from peoplesync.sync.mapping import Direction, FieldMapping, Mode
from peoplesync.sync.outbound.plan import (
    MAX_ATTEMPTS,
    LogPosition,
    create_values,
    deleted_links,
    missing_on_create,
    next_retry,
    persons_to_push,
    to_salesforce,
    update_values,
)

DEFINITIONS = {"interests": AttributeDefinition("interests", AttributeType.LIST)}
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
OUT = Direction.OUTBOUND
LINES = (
    FieldMapping("LastName", "last_name", OUT),
    FieldMapping("Email", "emails", OUT),
    FieldMapping("Phone", "phones", OUT),
    FieldMapping("MobilePhone", "phones", OUT),
    FieldMapping("Title", "title", OUT, mode=Mode.FILL),
    FieldMapping("Birthdate", "birth_date", OUT, on_update=False),
    FieldMapping("Interests__c", "interests", OUT, on_create=False),
    FieldMapping("Account.Name", "company", OUT),
    FieldMapping("City", "city", Direction.INBOUND),
)


def person(**standard: object) -> Person:
    attributes = {"interests": standard.pop("interests", None)}
    return Person(
        id="p1",
        version=1,
        emails=("Ada@example.com",),
        phones=("+14155550123", "+447700900123"),
        standard=standard,
        attributes=attributes,
        company_id=None,
        created_at=NOW,
        updated_at=NOW,
    )


def test_values_convert_dates_lists_and_phones() -> None:
    ada = person(last_name="Lovelace", birth_date=date(1815, 12, 10), city="London")
    assert create_values(ada, LINES) == {
        "LastName": "Lovelace",
        "Email": "Ada@example.com",
        "Phone": "+14155550123",
        "MobilePhone": "+447700900123",
        "Birthdate": "1815-12-10",
    }
    assert to_salesforce(["a", "b"]) == "a;b"
    assert to_salesforce(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000Z"


def test_updates_leave_out_echoes_and_respect_fill() -> None:
    ada = person(last_name="Lovelace", title="Countess", interests=["x", "y"])
    synced = {
        "LastName": "Lovelace",
        "Email": "ada@EXAMPLE.com",
        "Phone": "(415) 555-0123",
        "MobilePhone": "+447700900123",
        "Title": "Lady",
        "Interests__c": "y;x",
    }
    assert update_values(ada, LINES, synced, DEFINITIONS, phone_region="US") == {}
    assert update_values(ada, LINES, {**synced, "Title": None}, DEFINITIONS, phone_region="US") == {
        "Title": "Countess"
    }
    assert update_values(
        ada, LINES, {**synced, "LastName": "Byron"}, DEFINITIONS, phone_region="US"
    ) == {"LastName": "Lovelace"}


def test_a_lead_needs_a_company() -> None:
    assert missing_on_create("Lead", {"LastName": "X"}) == [("Company", "company")]
    assert missing_on_create("Lead", {"Company": "Acme"}) == []
    assert missing_on_create("Contact", {}) == []


def change(seq: int, person_id: str, origin: str = "ui", operation: str = "update") -> Change:
    return Change(seq, NOW, "person", person_id, operation, {}, origin, 1)  # type: ignore[arg-type]


def test_changes_collapse_per_person_and_our_own_are_skipped() -> None:
    changes = [
        change(1, "a"),
        change(2, "b", origin="salesforce:default"),
        change(3, "a"),
        change(4, "c"),
        change(5, "d", operation="delete"),
    ]
    assert persons_to_push(changes, own_origin="salesforce:default") == (["a", "c"], 1)


def test_deletes_carry_the_links_of_this_integration_from_the_snapshot() -> None:
    links = [
        ["salesforce:default", "Lead", "00Q000000000001AAA"],
        ["salesforce:other", "Lead", "00Q000000000002AAA"],
        ["salesforce:default", "Contact", "003000000000001AAA"],
    ]
    gone = Change(7, NOW, "person", "p", "delete", {"links": links}, "ui", 2)
    ours = Change(8, NOW, "person", "q", "delete", {"links": links}, "salesforce:default", 2)
    assert deleted_links([change(1, "a"), gone, ours], own_origin="salesforce:default") == {
        "p": [("Lead", "00Q000000000001AAA"), ("Contact", "003000000000001AAA")]
    }


def test_a_gap_is_read_again_until_it_appears_or_times_out() -> None:
    position = LogPosition().advance([1, 2, 4, 5], NOW)
    assert (position.seq, set(position.gaps)) == (5, {3})
    assert position.read_from() == 2
    assert position.wanted(3) and not position.wanted(4) and position.wanted(6)
    filled = position.advance([3, 4, 5, 6], NOW + timedelta(seconds=1))
    assert (filled.seq, dict(filled.gaps)) == (6, {})
    expired = position.advance([], NOW + timedelta(hours=1))
    assert expired.gaps == {}
    restored = LogPosition.from_json(position.to_json())
    assert (restored.seq, dict(restored.gaps)) == (5, dict(position.gaps))


def test_a_consumer_starting_on_a_trimmed_log_forgets_the_missing_start() -> None:
    position = LogPosition().advance([500, 501], NOW)
    assert len(position.gaps) == 499
    assert position.advance([], NOW + timedelta(hours=1)).gaps == {}


@given(st.lists(st.integers(1, 60), unique=True, max_size=40), st.randoms())
def test_every_seq_is_handled_once_whatever_the_commit_order(
    seqs: list[int], rng: random.Random
) -> None:
    """Seqs become visible in any order; each is wanted exactly until it has been read."""
    visible: set[int] = set()
    handled: list[int] = []
    position = LogPosition()
    order = seqs[:]
    rng.shuffle(order)
    for seq in order:
        visible.add(seq)
        page = sorted(s for s in visible if s > position.read_from())
        handled += [s for s in page if position.wanted(s)]
        position = position.advance(page, NOW)
    assert sorted(handled) == sorted(seqs)
    assert len(handled) == len(set(handled))


def test_retries_back_off_and_give_up() -> None:
    entry = next_retry(None, "UNABLE_TO_LOCK_ROW", NOW)
    assert entry is not None and entry.next_at == NOW + timedelta(minutes=1)
    for _ in range(MAX_ATTEMPTS - 1):
        assert entry is not None
        entry = next_retry(entry, "X", NOW)
    assert entry is not None and entry.attempts == MAX_ATTEMPTS
    assert next_retry(entry, "X", NOW) is None
