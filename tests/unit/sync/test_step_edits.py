"""The step edits shared by the CLI and the web: pure decisions on a profile."""

from __future__ import annotations

import pytest

from peoplesync.errors import ConfigurationError
from peoplesync.sync.mapping import ConflictRule, Direction, FieldMapping, Mode
from peoplesync.sync.profile.model import StepFilter, Target, default_profile
from peoplesync.sync.profile.step_edits import (
    added_step,
    change_step,
    changed_filter,
    mapping_line,
    set_lines,
    step_row,
    unmapped_hint,
)


def test_added_steps_clone_copy_and_new_objects_start_as_shipped() -> None:
    profile = default_profile()
    clone = added_step(profile, clone="Lead")
    assert clone.name == "Lead 2" and clone.lines == profile.step("Lead").lines
    with pytest.raises(ConfigurationError, match="reads Lead, not Contact"):
        added_step(profile, clone="Lead", sobject="Contact")
    with pytest.raises(ConfigurationError, match="say what to add"):
        added_step(profile)
    with pytest.raises(ConfigurationError, match="a step runs one way"):
        added_step(profile, sobject="Lead", direction=Direction.BOTH)
    score = added_step(profile, sobject="Score__c")
    assert (score.enabled, score.lines, score.target) == (False, (), Target.PERSON)
    assert unmapped_hint(score) is not None and unmapped_hint(clone) is None
    account = added_step(profile, sobject="Account", name="Accounts")
    assert (account.name, account.target, account.enabled) == ("Accounts", Target.COMPANY, True)
    out = added_step(profile, sobject="Lead", direction=Direction.OUTBOUND)
    assert (out.name, out.direction, out.delete) == ("Person to Lead 2", Direction.OUTBOUND, False)


def test_filter_and_switch_changes_keep_what_is_not_given() -> None:
    old = StepFilter("Rating = 'Hot'", 30, ("Working - Contacted",))
    assert changed_filter(old) == old
    assert changed_filter(old, condition=" ", days=0, clear_statuses=True) == StepFilter()
    assert changed_filter(old, statuses=["Open - Not Contacted"]).lead_statuses == (
        "Open - Not Contacted",
    )
    profile = change_step(default_profile(), "Lead", delete=False, step_filter=old)
    lead = profile.step("Lead")
    assert (lead.create, lead.update, lead.delete, lead.filter) == (True, True, False, old)


def test_mapping_lines_follow_the_step_and_replace_the_whole_mapping() -> None:
    profile = default_profile()
    line = mapping_line(profile, "Person to Lead", " City ", "city", mode=Mode.FILL, on="create")
    assert line == FieldMapping("City", "city", Direction.OUTBOUND, Mode.FILL, True, False)
    both = mapping_line(
        profile,
        "Lead",
        "Title",
        "title",
        direction=Direction.BOTH,
        conflict=ConflictRule.PEOPLE_WINS,
    )
    assert (both.direction, both.conflict) == (Direction.BOTH, ConflictRule.PEOPLE_WINS)
    with pytest.raises(ConfigurationError, match="unknown --on"):
        mapping_line(profile, "Lead", "Title", "title", on="always")
    replaced = set_lines(profile, "Lead", [line])
    assert replaced.step("Lead").lines == (line,)
    assert replaced.step("Contact") == profile.step("Contact")
    assert step_row(replaced.step("Lead"))["condition"] is None
