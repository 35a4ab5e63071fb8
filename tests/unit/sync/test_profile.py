"""Sync profiles: operations, problems naming step and field, dict and YAML round trips (pure)."""

from __future__ import annotations

import pytest

from peoplesync.errors import ConfigurationError
from peoplesync.sync.mapping import DEFAULT_MAPPINGS, ConflictRule, Direction, FieldMapping, Mode
from peoplesync.sync.profile.format import profile_from_yaml, profile_to_yaml, read_profile
from peoplesync.sync.profile.model import (
    Profile,
    ProfileError,
    Step,
    StepFilter,
    Target,
    default_profile,
)


def test_default_profile() -> None:
    profile = default_profile()
    assert profile.names() == ["Account", "Lead", "Contact", "Person to Lead", "Person to Contact"]
    assert profile.step("Account").target is Target.COMPANY
    lead_fields = [line.salesforce_field for line in profile.step("Lead").lines]
    assert lead_fields == [line.salesforce_field for line in DEFAULT_MAPPINGS["Lead"]]
    assert profile.problems() == []
    # The fields both person steps of an object map are two-way under an explicit rule (a
    # one-way line each way settles no conflict: the later side's edit could be lost).
    for inbound, outbound in (("Lead", "Person to Lead"), ("Contact", "Person to Contact")):
        pulled = {li.salesforce_field: li for li in profile.step(inbound).lines}
        pushed = {li.salesforce_field: li for li in profile.step(outbound).lines}
        assert set(pushed) <= set(pulled)
        for name, line in pushed.items():
            assert line.direction is Direction.BOTH, (outbound, name)
            assert pulled[name].direction is Direction.BOTH, (inbound, name)
            assert line.conflict is pulled[name].conflict is ConflictRule.MOST_RECENT
    assert profile.step("Lead").lines[-1].direction is Direction.INBOUND  # Status: read only
    exported = profile_to_yaml(profile)
    assert "direction: both\n    conflict: most_recent\n" in exported
    # Steps named after their object keep the object's cursor key (existing installs resume).
    lead = profile.step("Lead").inbound_step("default")
    assert lead.cursor_key == "salesforce:default:Lead:cursor"
    assert lead.condition is None
    # A new person becomes a Lead; linked Contacts are updated; nothing is deleted by default.
    pushed = {s.sobject: (s.create, s.update, s.delete) for s in profile.outbound_steps()}
    assert pushed == {"Lead": (True, True, False), "Contact": (False, True, False)}
    assert profile.outbound_steps()[0].label == "Person to Lead"


def test_outbound_step_problems() -> None:
    out = Direction.OUTBOUND
    lines = (FieldMapping("LastName", "last_name", out),)
    profile = Profile(
        (
            Step("A", "Lead", direction=out, lines=(FieldMapping("LastName", "last_name"),)),
            Step("B", "Contact", direction=out, lines=(FieldMapping("Account.Name", "x", out),)),
            Step("C", "Account", Target.COMPANY, out, lines=lines),
            Step("D", "Lead", direction=out, lines=lines, filter=StepFilter("Rating = 'Hot'")),
            Step("E", "Lead", direction=Direction.BOTH, lines=lines),
        )
    )
    found = {(p.step, p.field) for p in profile.problems()}
    assert found == {
        ("A", "mapping[0] (LastName)"),  # an inbound line in an outbound step
        ("B", "mapping[0] (Account.Name)"),
        ("B", "create"),  # only one outbound step creates (A does)
        ("C", "mapping[0] (LastName)"),  # not a company field (Company -> Account may create)
        ("D", "filter"),
        ("D", "create"),
        ("E", "direction"),
    }
    # Read from YAML, an outbound step's lines flow outbound and deletes stay off.
    read = profile_from_yaml(
        "steps:\n- {name: Out, sobject: Contact, direction: outbound,"
        " mapping: [{field: LastName, attribute: last_name}]}\n"
    ).step("Out")
    assert (read.create, read.delete, read.lines) == (False, False, lines)


def test_operations_return_new_profiles() -> None:
    profile = default_profile()
    cloned = profile.clone("Lead")
    assert cloned.names()[-1] == "Lead 2"
    assert cloned.clone("Lead").names()[-1] == "Lead 3"
    assert cloned.step("Lead 2").inbound_step().cursor_key == "salesforce:default:Lead 2:cursor"
    assert "Lead 2" not in profile.names()  # unchanged
    assert cloned.remove("Lead 2").names() == profile.names()
    assert not profile.set_enabled("Contact", False).step("Contact").enabled
    switched = profile.set_switches("Lead", create=False, delete=False).step("Lead")
    assert (switched.create, switched.update, switched.delete) == (False, True, False)
    filtered = profile.set_filter("Lead", StepFilter("Rating = 'Hot'", 30, ("Working",)))
    assert filtered.step("Lead").inbound_step().condition == (
        "(Rating = 'Hot') AND LastModifiedDate = LAST_N_DAYS:30 AND Status IN ('Working')"
    )
    mapped = profile.set_line("Lead", FieldMapping("title", "first_name", mode=Mode.FILL))
    lines = mapped.step("Lead").lines
    assert len(lines) == len(DEFAULT_MAPPINGS["Lead"])  # the Title line was replaced
    assert FieldMapping("title", "first_name", mode=Mode.FILL) in lines
    added = profile.set_line("Lead", FieldMapping("Rating", "rating"))
    assert added.step("Lead").lines[-1] == FieldMapping("Rating", "rating")
    assert len(added.remove_line("Lead", "rating").step("Lead").lines) == len(lines)


def test_operation_errors_say_how_to_fix() -> None:
    profile = default_profile()
    with pytest.raises(ConfigurationError, match="no step named 'Opportunity'") as missing:
        profile.remove("Opportunity")
    assert "Account, Lead, Contact" in missing.value.hint
    with pytest.raises(ConfigurationError, match="exists already"):
        profile.add(Step("Lead", "Lead"))
    with pytest.raises(ConfigurationError, match="maps no field Rating"):
        profile.remove_line("Lead", "Rating")


def test_problems_name_the_step_and_the_field() -> None:
    profile = Profile(
        (
            Step("Leads!", "Lead", lines=DEFAULT_MAPPINGS["Lead"]),
            Step("Hot", "Contact", lines=(), filter=StepFilter("Id != null LIMIT 1", 0, ("X",))),
            Step("Acc", "Account", Target.COMPANY, lines=(FieldMapping("Name", "first_name"),)),
            Step("Firm", "Contact", Target.COMPANY, enabled=False),
            Step("Person", "Account", enabled=False),
            Step("Out", "Lead", Target.PERSON, Direction.BOTH, lines=DEFAULT_MAPPINGS["Lead"]),
            Step("Custom", "Bad Object", enabled=False),
        )
    )
    found = {(p.step, p.field) for p in profile.problems()}
    assert found == {
        ("Leads!", "name"),
        ("Hot", "mapping"),
        ("Hot", "filter.lead_statuses"),
        ("Hot", "filter.condition"),
        ("Hot", "filter.modified_within_days"),
        ("Acc", "mapping[0] (Name)"),
        ("Firm", "target"),
        ("Person", "target"),
        ("Out", "direction"),
        ("Custom", "sobject"),
    }
    condition = next(p for p in profile.problems() if p.field == "filter.condition")
    assert str(condition) == (
        "step 'Hot', field filter.condition: LIMIT cannot appear in a filter condition "
        "(how to fix: write only the condition that follows WHERE)"
    )


def test_dict_and_yaml_round_trip() -> None:
    profile = (
        default_profile()
        .clone("Lead", "Web leads")
        .set_filter("Web leads", StepFilter("LeadSource = 'Web'", 90, ("Open - Not Contacted",)))
        .set_line(
            "Web leads",
            FieldMapping("Rating", "status", mode=Mode.FILL, on_create=True, on_update=False),
        )
        .set_switches("Web leads", delete=False)
        .set_enabled("Contact", False)
    )
    assert read_profile(profile.to_dict()) == profile
    text = profile_to_yaml(profile)
    assert text.startswith("# peoplesync sync profile of integration 'default'")
    assert "  - field: Rating\n    attribute: status\n    mode: fill\n    when: create\n" in text
    assert profile_from_yaml(text) == profile


def test_yaml_problems_are_all_reported() -> None:
    text = """
steps:
- name: Lead
  sobject: Lead
  enabled: yes please
  filtre: {}
  filter: {modified_within_days: ninety, lead_statuses: Working}
  mapping:
  - {field: Email, attribute: emails, mode: sometimes, when: never}
  - {field: Phone}
- sobject: Contact
"""
    with pytest.raises(ProfileError) as caught:
        profile_from_yaml(text)
    found = {(p.step, p.field) for p in caught.value.problems}
    assert found == {
        ("Lead", "enabled"),
        ("Lead", "filtre"),
        ("Lead", "filter.modified_within_days"),
        ("Lead", "filter.lead_statuses"),
        ("Lead", "mapping[0].mode"),
        ("Lead", "mapping[0].when"),
        ("Lead", "mapping[1]"),
        ("#2", "name"),
    }
    with pytest.raises(ConfigurationError, match="not valid YAML at line 3"):
        profile_from_yaml("steps:\n  - name: 'Lead\n")
    with pytest.raises(ProfileError, match="expected a mapping with a list of steps"):
        profile_from_yaml("- Lead")
