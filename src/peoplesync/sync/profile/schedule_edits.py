"""Changing a step's schedule (the service behind ``steps schedule``, the API and the Steps
page): read the schedule from plain data, set it, check and save the profile.

A schedule needs no resync and no check against the org: it changes when passes run, not
what they read. The running loops read it at their next cycle.
"""

from __future__ import annotations

from typing import Any

from peoplesync.people.store import PeopleStore
from peoplesync.sync.profile.model import Profile, ProfileError, StepProblem
from peoplesync.sync.profile.schedule import read_schedule
from peoplesync.sync.profile.schedule_plan import with_schedule
from peoplesync.sync.profile.step_edits import save_checked
from peoplesync.sync.profile.store import load_profile


def parsed_schedule(profile: Profile, step: str, data: Any) -> Profile:
    """The profile with ``step`` on the schedule ``data`` describes (None: the default);
    ``ProfileError`` names the step and each field at fault."""
    profile.step(step)
    if data is None:
        return with_schedule(profile, step, None)[0]
    schedule, problems = read_schedule(data)
    if schedule is None:
        raise ProfileError([StepProblem(step, p.field, p.message, hint=p.hint) for p in problems])
    return with_schedule(profile, step, schedule)[0]


async def set_schedule(
    store: PeopleStore, integration: str, step: str, data: Any
) -> tuple[Profile, list[str]]:
    """Save ``step``'s new schedule; returns the profile and the steps whose schedule changed
    (every outbound step when ``step`` is one: they share the push schedule)."""
    before = await load_profile(store, integration)
    profile = parsed_schedule(before, step, data)
    changed = [s.name for s in profile.steps if before.find(s.name) != s]
    await save_checked(store, None, profile, integration)
    return profile, changed


__all__ = ["parsed_schedule", "set_schedule"]
