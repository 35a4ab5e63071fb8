"""Pure two-way conflict decisions: what is a conflict, who wins, and that both directions agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from peoplesync.sync.conflict import (
    Conflict,
    FieldSides,
    Moment,
    Side,
    attributes_to_time,
    in_conflict,
    losing,
    needs_salesforce_values,
    settle,
    two_way,
    winner,
)
from peoplesync.sync.mapping import ConflictRule, Direction, FieldMapping, Mode

BOTH = Direction.BOTH
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TITLE = FieldMapping("Title", "title", BOTH, conflict=ConflictRule.MOST_RECENT)
LINES = (
    TITLE,
    FieldMapping("City", "city", BOTH, conflict=ConflictRule.SALESFORCE_WINS),
    FieldMapping("Country", "country", BOTH, conflict=ConflictRule.PEOPLE_WINS),
    FieldMapping("Email", "emails", BOTH),
    FieldMapping("Phone", "phones", BOTH),
    FieldMapping("Street", "address", Direction.INBOUND),
    FieldMapping("Company", "company", BOTH, mode=Mode.FILL),
)
values = st.one_of(st.none(), st.sampled_from(["a", "b", "c", ""]))
moments = st.one_of(st.none(), st.integers(0, 5).map(lambda m: NOW + timedelta(minutes=m)))
rules = st.sampled_from(list(ConflictRule))


def test_only_two_way_overwrite_lines_on_writable_fields_can_conflict() -> None:
    assert [line.salesforce_field for line in LINES if two_way(line)] == [
        "Title",
        "City",
        "Country",
        "Email",
        "Phone",
    ]
    assert not two_way(FieldMapping("Account.Name", "company", BOTH))


def test_a_conflict_needs_both_sides_changed_to_different_values() -> None:
    assert in_conflict(TITLE, FieldSides("CEO", "CTO", "CFO"), {})
    assert not in_conflict(TITLE, FieldSides("CEO", "CTO", "CEO"), {})  # People unchanged
    assert not in_conflict(TITLE, FieldSides("CEO", "CEO", "CFO"), {})  # Salesforce unchanged
    assert not in_conflict(TITLE, FieldSides("CEO", "CTO", "CTO"), {})  # the same new value
    assert not in_conflict(TITLE, FieldSides(None, "", None), {})  # empty is empty
    assert in_conflict(TITLE, FieldSides("CEO", None, "CFO"), {})  # a clear is a change


def test_values_that_mean_the_same_are_no_conflict() -> None:
    email = FieldMapping("Email", "emails", BOTH)
    assert not in_conflict(email, FieldSides("a@x.io", "B@x.io", "b@X.io"), {})
    phone = FieldMapping("Phone", "phones", BOTH)
    sides = FieldSides("+1 415 555 0100", "(415) 555-0199", "+14155550199")
    assert not in_conflict(phone, sides, {}, phone_region="US")


def test_rules() -> None:
    early, late = NOW, NOW + timedelta(seconds=1)
    assert winner(ConflictRule.SALESFORCE_WINS, salesforce_at=early, people_at=late) is (
        Side.SALESFORCE
    )
    assert winner(ConflictRule.PEOPLE_WINS, salesforce_at=late, people_at=early) is Side.PEOPLE
    assert winner(ConflictRule.MOST_RECENT, salesforce_at=early, people_at=late) is Side.PEOPLE
    assert winner(ConflictRule.MOST_RECENT, salesforce_at=late, people_at=early) is (
        Side.SALESFORCE
    )
    # A tie or an unknown time goes to Salesforce, the same way in both directions.
    assert winner(ConflictRule.MOST_RECENT, salesforce_at=early, people_at=early) is (
        Side.SALESFORCE
    )
    assert winner(ConflictRule.MOST_RECENT, salesforce_at=None, people_at=late) is Side.SALESFORCE


def test_settle_names_the_field_both_values_and_the_winner() -> None:
    state = {"Title": "CEO", "City": "Paris", "Country": "FR", "Street": "1 rue"}
    salesforce = {"Title": "CTO", "City": "Lyon", "Country": "DE", "Street": "2 rue"}
    people = {"Title": "CFO", "City": "Nice", "Country": "IT", "Street": "3 rue"}
    found = settle(
        "Lead 00Q1",
        LINES,
        state,
        salesforce,
        people,
        {},
        Moment(salesforce_at=NOW, people_at={"title": NOW + timedelta(seconds=5)}),
    )
    assert found == [
        Conflict(
            "Lead 00Q1", "Title", "title", "CTO", "CFO", ConflictRule.MOST_RECENT, Side.PEOPLE
        ),
        Conflict(
            "Lead 00Q1",
            "City",
            "city",
            "Lyon",
            "Nice",
            ConflictRule.SALESFORCE_WINS,
            Side.SALESFORCE,
        ),
        Conflict(
            "Lead 00Q1", "Country", "country", "DE", "IT", ConflictRule.PEOPLE_WINS, Side.PEOPLE
        ),
    ]
    assert "CTO" in found[0].describe() and "CFO" in found[0].describe()
    assert found[1].to_json()["winner"] == "salesforce"
    # Salesforce's changes that lose are not applied in People, and the other way round.
    assert losing(found, Side.SALESFORCE) == {"Title", "Country"}
    assert losing(found, Side.PEOPLE) == {"City"}


def test_most_recent_takes_the_time_of_the_attribute_in_conflict() -> None:
    """The person changed another attribute after Salesforce's edit; the Title itself was
    changed before it: Salesforce's Title is the more recent, and only Title needs a time."""
    state, salesforce, people = {"Title": "CEO"}, {"Title": "CTO"}, {"Title": "CFO"}
    assert attributes_to_time(LINES, state, salesforce, people, {}) == {"title"}
    moment = Moment(
        NOW, {"title": NOW - timedelta(milliseconds=20), "city": NOW + timedelta(seconds=1)}
    )
    (found,) = settle("r", LINES, state, salesforce, people, {}, moment)
    assert found.winner is Side.SALESFORCE
    later = Moment(NOW, {"title": NOW + timedelta(milliseconds=20)})
    assert settle("r", LINES, state, salesforce, people, {}, later)[0].winner is Side.PEOPLE
    # Rules that need no time ask for none; an unknown time goes to Salesforce.
    both = {"City": "Lyon", "Country": "DE"}
    assert attributes_to_time(LINES, {}, both, {"City": "Nice", "Country": "IT"}, {}) == set()
    assert settle("r", LINES, state, salesforce, people, {}, Moment(NOW))[0].winner is (
        Side.SALESFORCE
    )


def test_only_rules_salesforce_can_win_need_its_current_values() -> None:
    assert needs_salesforce_values(LINES, ["Title"])
    assert needs_salesforce_values(LINES, ["City", "Street"])
    assert not needs_salesforce_values(LINES, ["Country"])  # People wins anyway
    assert not needs_salesforce_values(LINES, ["Street", "Company"])  # one-way and Fill


@given(rules, values, values, values, moments, moments)
def test_both_directions_agree_and_the_winner_value_is_kept(
    rule: ConflictRule,
    synced: Any,
    salesforce: Any,
    people: Any,
    salesforce_at: datetime | None,
    people_at: datetime | None,
) -> None:
    line = FieldMapping("Title", "title", BOTH, conflict=rule)
    moment = Moment(salesforce_at, {"title": people_at} if people_at else {})
    seen_inbound = settle(
        "r", [line], {"Title": synced}, {"Title": salesforce}, {"Title": people}, {}, moment
    )
    seen_outbound = settle(
        "r", [line], {"Title": synced}, {"Title": salesforce}, {"Title": people}, {}, moment
    )
    assert seen_inbound == seen_outbound
    if not seen_inbound:
        return
    (conflict,) = seen_inbound
    # Exactly one side's change survives: Salesforce's is applied in People, or People's is
    # written to Salesforce, never both and never neither.
    inbound_applies = "Title" not in losing(seen_inbound, Side.SALESFORCE)
    outbound_writes = "Title" not in losing(seen_outbound, Side.PEOPLE)
    assert inbound_applies != outbound_writes
    assert conflict.winner is (Side.SALESFORCE if inbound_applies else Side.PEOPLE)
    if rule is ConflictRule.MOST_RECENT and salesforce_at and people_at:
        assert (conflict.winner is Side.PEOPLE) == (people_at > salesforce_at)
