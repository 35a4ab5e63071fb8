"""Segments as outbound filters: the pure membership check, the profile's segment field and
its checks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from peoplesync.errors import ConfigurationError
from peoplesync.people.model import Person
from peoplesync.people.person_filter import Condition, SegmentRule, check_conditions
from peoplesync.sync.mapping import Direction
from peoplesync.sync.outbound.segment import in_segment, load_segment_rules
from peoplesync.sync.profile.format import read_profile
from peoplesync.sync.profile.model import default_profile
from peoplesync.sync.profile.step_edits import change_step

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def person(first: str, last: str, city: str | None, *emails: str) -> Person:
    return Person(
        id=first.lower(),
        version=1,
        emails=emails,
        phones=(),
        standard={"first_name": first, "last_name": last, "city": city},
        attributes={},
        company_id=None,
        created_at=NOW,
        updated_at=NOW,
    )


ADA = person("Ada", "Lovelace", "London", "ada@example.com")
ALAN = person("Alan", "Turing", "Manchester", "alan@example.org")
LONDON = SegmentRule(
    "Londoners", "", tuple(check_conditions([Condition("city", "equals", "LONDON")], {}))
)


def test_membership_is_the_segment_rule_on_the_person() -> None:
    rules = {"Londoners": LONDON}
    assert in_segment("Londoners", rules, ADA)
    assert not in_segment("Londoners", rules, ALAN)
    assert in_segment(None, rules, ALAN)  # a step without a segment pushes everyone
    assert not in_segment("Unknown", rules, ADA)  # never push by default


@pytest.mark.parametrize(
    ("query", "admitted"),
    [
        ("", {"ada", "alan"}),
        ("a", {"ada", "alan"}),
        ("lov", {"ada"}),
        ("alan@", {"alan"}),
        ("ada lov", {"ada"}),
        ("ada tur", set()),
        ("example", set()),
    ],
)
def test_search_part_of_a_segment(query: str, admitted: set[str]) -> None:
    rule = SegmentRule("s", query, ())
    assert {p.id for p in (ADA, ALAN) if rule.admits(p)} == admitted


async def test_rules_are_loaded_only_for_named_segments() -> None:
    asked: list[list[str]] = []

    async def loader(names: list[str]) -> dict[str, SegmentRule]:
        asked.append(names)
        return {"Londoners": LONDON}

    assert await load_segment_rules([None, None], loader) == {}
    assert await load_segment_rules(["Londoners", None, "Londoners"], loader) == {
        "Londoners": LONDON
    }
    assert asked == [["Londoners"]]
    with pytest.raises(ConfigurationError):
        await load_segment_rules(["Londoners"], None)


def test_profile_keeps_the_segment_of_an_outbound_step() -> None:
    profile = change_step(default_profile(), "Person to Lead", segment=" Londoners ")
    step = profile.step("Person to Lead")
    assert step.segment == "Londoners"
    assert step.outbound_step().segment == "Londoners"
    again = read_profile(profile.to_dict())
    assert again.step("Person to Lead").segment == "Londoners"
    assert not profile.problems()
    cleared = change_step(profile, "Person to Lead", segment="")
    assert cleared.step("Person to Lead").segment is None
    assert "segment" not in cleared.step("Person to Lead").to_dict()


def test_only_outbound_steps_take_a_segment() -> None:
    profile = change_step(default_profile(), "Lead", segment="Londoners")
    assert profile.step("Lead").direction is Direction.INBOUND
    assert [(p.step, p.field) for p in profile.problems()] == [("Lead", "segment")]
