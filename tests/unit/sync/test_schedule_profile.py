"""Schedules in profiles: YAML round trip, old profiles, shared push schedule (pure)."""

from __future__ import annotations

from datetime import time

import pytest

from peoplesync.errors import ConfigurationError
from peoplesync.sync.mapping import Direction
from peoplesync.sync.profile.format import profile_from_yaml, profile_to_yaml, read_profile
from peoplesync.sync.profile.model import ProfileError, default_profile
from peoplesync.sync.profile.schedule import Kind, Schedule
from peoplesync.sync.profile.schedule_plan import schedule_of, schedule_problems, with_schedule


def test_schedules_round_trip_through_yaml() -> None:
    profile, _ = with_schedule(default_profile(), "Lead", Schedule.minutes(15))
    profile, _ = with_schedule(profile, "Account", Schedule.daily(time(6, 30), "Europe/Paris"))
    profile, _ = with_schedule(profile, "Contact", Schedule.manual())
    text = profile_to_yaml(profile)
    assert "schedule:\n    kind: daily\n    at: 06:30\n    timezone: Europe/Paris\n" in text
    assert profile_from_yaml(text) == profile
    assert schedule_of(profile_from_yaml(text).step("Contact")).kind is Kind.MANUAL


def test_a_profile_without_schedules_loads_and_runs_in_real_time() -> None:
    old = default_profile().to_dict()
    assert all("schedule" not in step for step in old["steps"])
    profile = read_profile(old)
    assert {schedule_of(s) for s in profile.steps} == {Schedule.realtime()}
    assert "schedule" not in profile_to_yaml(profile)


def test_a_bad_schedule_in_yaml_names_the_step_and_field() -> None:
    text = profile_to_yaml(default_profile()).replace(
        "- name: Lead\n", "- name: Lead\n  schedule: {kind: minutes, every: 0}\n", 1
    )
    with pytest.raises(ProfileError) as raised:
        profile_from_yaml(text)
    [problem] = raised.value.problems
    assert (problem.step, problem.field) == ("Lead", "schedule.every")


def test_outbound_steps_share_one_push_schedule() -> None:
    profile, changed = with_schedule(default_profile(), "Person to Lead", Schedule.hours(6))
    assert changed == ["Person to Lead", "Person to Contact"]
    assert schedule_of(profile.step("Person to Contact")) == Schedule.hours(6)
    assert schedule_of(profile.step("Lead")).kind is Kind.REALTIME  # inbound untouched
    assert schedule_problems(profile.steps) == []
    # a hand-edited profile with two push schedules is refused, naming the odd step
    data = profile.to_dict()
    data["steps"][4]["schedule"] = {"kind": "manual"}
    [problem] = schedule_problems(read_profile(data).steps)
    assert (problem.step, problem.field) == ("Person to Contact", "schedule")
    assert all(s.direction is Direction.OUTBOUND for s in profile.steps[3:])


def test_scheduling_an_unknown_step_says_which_exist() -> None:
    with pytest.raises(ConfigurationError, match="no step named 'Nope'"):
        with_schedule(default_profile(), "Nope", Schedule.manual())
