"""Schedules across a profile's steps (pure): setting one, checking them, and which steps are
due now.

Outbound steps follow one People change log with one position, so they share one push
schedule: setting an outbound step's schedule sets it on every outbound step (a push that
skipped some steps would move the position past their changes).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from peoplesync.sync.mapping import Direction
from peoplesync.sync.profile.model import Profile, Step, StepProblem
from peoplesync.sync.profile.schedule import Kind, Schedule, default_schedule, next_run


def schedule_of(step: Step) -> Schedule:
    """The schedule a step runs on (its own, or the default: real time)."""
    return step.schedule or default_schedule()


def with_schedule(
    profile: Profile, name: str, schedule: Schedule | None
) -> tuple[Profile, list[str]]:
    """The profile with step ``name`` on ``schedule`` (None: the default), and the names of
    the steps that changed (every outbound step when ``name`` is one)."""
    target = profile.step(name)
    outbound = target.direction is Direction.OUTBOUND
    changed = [
        s.name
        for s in profile.steps
        if s.name == name or (outbound and s.direction is Direction.OUTBOUND)
    ]
    steps = tuple(
        dataclasses.replace(s, schedule=schedule) if s.name in changed else s for s in profile.steps
    )
    return Profile(steps), changed


def schedule_problems(steps: Sequence[Step]) -> list[StepProblem]:
    """Outbound steps on different schedules (possible in a hand-edited profile)."""
    outbound = [s for s in steps if s.direction is Direction.OUTBOUND]
    if len({schedule_of(s) for s in outbound}) <= 1:
        return []
    first = schedule_of(outbound[0]).describe()
    return [
        StepProblem(
            s.name,
            "schedule",
            f"outbound steps share one push schedule, and {outbound[0].name!r} runs {first}",
            hint="give every outbound step the same schedule "
            f"(peoplesync steps schedule {s.name!r} ... sets them all)",
            web_hint="give every outbound step the same schedule (the schedule control on the "
            "Steps page sets them all)",
        )
        for s in outbound[1:]
        if schedule_of(s) != schedule_of(outbound[0])
    ]


@dataclass(frozen=True)
class Due:
    """Which steps run now, which follow change streams, and when the next one is due."""

    now: frozenset[str]
    realtime: frozenset[str]
    next_at: datetime | None  # the earliest run of the steps not due now (None: none)

    def wait(self, moment: datetime, longest: float) -> float:
        """Seconds to sleep before looking again: until the next run, at most ``longest``
        (a changed schedule is read then)."""
        if self.next_at is None:
            return longest
        return max(0.0, min(longest, (self.next_at - moment).total_seconds()))


def due_steps(
    schedules: Mapping[str, Schedule],
    last_runs: Mapping[str, datetime | None],
    now: datetime,
    *,
    realtime_every: timedelta | None = None,
) -> Due:
    """Which of the steps are due at ``now``; ``realtime_every`` replaces real-time steps'
    poll period (the push's own cadence, or polling while change streams are down)."""
    due: set[str] = set()
    later: list[datetime] = []
    for name, schedule in schedules.items():
        if schedule.kind is Kind.REALTIME and realtime_every is not None:
            last = last_runs.get(name)
            when: datetime | None = now if last is None else max(now, last + realtime_every)
        else:
            when = next_run(schedule, last_runs.get(name), now)
        if when is None:
            continue
        if when <= now:
            due.add(name)
        else:
            later.append(when)
    realtime = frozenset(n for n, s in schedules.items() if s.kind is Kind.REALTIME)
    return Due(frozenset(due), realtime, min(later, default=None))


def schedule_rows(
    profile: Profile, last_runs: Mapping[str, datetime | None], now: datetime
) -> list[dict[str, Any]]:
    """Each step's schedule and next run as plain data (status pages, the API, the CLI).

    ``next_run`` is None for manual and disabled steps; a real-time step's next run is its
    reconciliation poll (inbound) or the next change (outbound, shown as ``now``)."""
    rows: list[dict[str, Any]] = []
    for step in profile.steps:
        schedule = schedule_of(step)
        pushes_now = step.direction is Direction.OUTBOUND and schedule.kind is Kind.REALTIME
        when = None if not step.enabled else next_run(schedule, last_runs.get(step.name), now)
        rows.append(
            {
                "step": step.name,
                "direction": step.direction.value,
                "enabled": step.enabled,
                "schedule": schedule.to_dict(),
                "describe": "real time (as People changes)" if pushes_now else schedule.describe(),
                "default": step.schedule is None,
                "next_run": None if when is None else (now if pushes_now else when).isoformat(),
            }
        )
    return rows


__all__ = [
    "Due",
    "due_steps",
    "schedule_of",
    "schedule_problems",
    "schedule_rows",
    "with_schedule",
]
