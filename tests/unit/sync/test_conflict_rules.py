"""A field synced both ways has one conflict rule: the check made when a profile is saved, and
the edits that give a field its rule in every step of the object."""

from __future__ import annotations

import dataclasses

import pytest

from peoplesync.people.store import PeopleStore
from peoplesync.sync.conflict_rules import field_rule, rule_problems, with_field_rule
from peoplesync.sync.mapping import ConflictRule, Direction, FieldMapping, Mode
from peoplesync.sync.profile.model import Profile, ProfileError, default_profile
from peoplesync.sync.profile.step_edits import map_line, mapping_line
from peoplesync.sync.profile.store import save_profile

PEOPLE_WINS = ConflictRule.PEOPLE_WINS
SALESFORCE_WINS = ConflictRule.SALESFORCE_WINS


def with_line(profile: Profile, step: str, line: FieldMapping) -> Profile:
    return profile.set_line(step, line)


def test_the_default_profile_has_one_rule_per_field() -> None:
    assert rule_problems(default_profile().steps) == []


def test_a_two_way_line_with_another_rule_on_the_other_side_names_step_field_and_rules() -> None:
    profile = with_line(
        default_profile(),
        "Lead",
        FieldMapping("Title", "title", Direction.BOTH, conflict=PEOPLE_WINS),
    )
    (problem,) = rule_problems(profile.steps)
    assert problem.step == "Person to Lead"
    assert problem.field == "mapping[6] (Title)"
    message = str(problem)
    assert "step 'Lead'" in message
    assert "people_wins" in message and "most_recent" in message
    assert "--conflict people_wins" in (problem.hint or "")


def test_one_way_lines_on_both_sides_need_the_same_rule_too() -> None:
    profile = with_line(
        default_profile(),
        "Person to Lead",
        FieldMapping("City", "city", Direction.OUTBOUND, conflict=SALESFORCE_WINS),
    )
    (problem,) = rule_problems(profile.steps)
    assert (problem.step, problem.field) == ("Person to Lead", "mapping[7] (City)")
    assert "salesforce_wins" in str(problem) and "most_recent" in str(problem)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda p: p.set_enabled("Lead", False), id="inbound step disabled"),
        pytest.param(lambda p: p.set_enabled("Person to Lead", False), id="outbound disabled"),
        pytest.param(
            lambda p: p.set_line(
                "Person to Lead", FieldMapping("Title", "title", mode=Mode.DONT_SYNC)
            ),
            id="the other side does not sync the field",
        ),
        pytest.param(lambda p: p.remove_line("Person to Lead", "Title"), id="not mapped there"),
    ],
)
def test_fields_not_synced_both_ways_may_keep_any_rule(change: object) -> None:
    profile = with_line(
        default_profile(),
        "Lead",
        FieldMapping("Title", "title", Direction.BOTH, conflict=PEOPLE_WINS),
    )
    assert callable(change)
    assert rule_problems(change(profile).steps) == []


def test_contact_rules_do_not_meet_lead_rules() -> None:
    profile = with_line(
        default_profile(),
        "Lead",
        FieldMapping("Title", "title", Direction.BOTH, conflict=PEOPLE_WINS),
    )
    profile = with_line(
        profile,
        "Person to Lead",
        FieldMapping("Title", "title", Direction.BOTH, conflict=PEOPLE_WINS),
    )
    assert rule_problems(profile.steps) == []
    contact = with_line(
        profile,
        "Contact",
        FieldMapping("Title", "title", Direction.BOTH, conflict=SALESFORCE_WINS),
    )
    (problem,) = rule_problems(contact.steps)
    assert problem.step == "Person to Contact" and "step 'Contact'" in str(problem)


def test_every_inbound_step_of_the_object_is_compared() -> None:
    profile = default_profile().clone("Lead", "Hot leads")
    profile = with_line(
        profile,
        "Hot leads",
        FieldMapping("Title", "title", Direction.BOTH, conflict=SALESFORCE_WINS),
    )
    (problem,) = rule_problems(profile.steps)
    assert "step 'Hot leads'" in str(problem)


def test_a_rule_given_once_goes_to_the_field_in_every_step_of_the_object() -> None:
    profile = default_profile()
    line = mapping_line(profile, "Lead", "title", "title", direction=Direction.BOTH)
    assert line.conflict is ConflictRule.MOST_RECENT
    changed, others = map_line(
        profile,
        "Lead",
        dataclasses.replace(line, conflict=PEOPLE_WINS),
        conflict_everywhere=True,
    )
    assert others == ["Person to Lead"]
    assert rule_problems(changed.steps) == []
    # A later edit without a rule keeps the field's rule, on either side.
    assert field_rule(changed, "Person to Lead", "Title") is PEOPLE_WINS
    again = mapping_line(changed, "Person to Lead", "Title", "title", direction=Direction.BOTH)
    assert again.conflict is PEOPLE_WINS
    # A step that does not map the field yet takes the rule the field has elsewhere.
    unmapped = changed.remove_line("Person to Lead", "Title")
    assert field_rule(unmapped, "Person to Lead", "Title") is PEOPLE_WINS
    assert field_rule(unmapped, "Person to Contact", "Title") is ConflictRule.MOST_RECENT
    untouched, none = with_field_rule(changed, "Lead", "Title", PEOPLE_WINS)
    assert (untouched, none) == (changed, [])


async def test_saving_a_profile_with_two_rules_for_a_field_saves_nothing(
    store: PeopleStore,
) -> None:
    profile = with_line(
        default_profile(),
        "Lead",
        FieldMapping("Street", "address", Direction.BOTH, conflict=PEOPLE_WINS),
    )
    with pytest.raises(ProfileError) as raised:
        await save_profile(store, None, profile)
    assert "step 'Person to Lead', field mapping[9] (Street)" in str(raised.value)
    assert "people_wins" in str(raised.value)
    assert await store.get_state("profile:default") is None
    fixed, _ = map_line(
        profile,
        "Lead",
        profile.step("Lead").lines[9],
        conflict_everywhere=True,
    )
    await save_profile(store, None, fixed)
    assert await store.get_state("profile:default") is not None
