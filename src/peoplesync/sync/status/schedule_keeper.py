"""The running loops' view of schedules: each cycle, read the integration's schedules (so a
changed one applies without a restart) and when each step last ran, and say which are due.

The decision itself is :func:`peoplesync.sync.profile.schedule_plan.due_steps`; this reads
its inputs.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from peoplesync.clock import Clock
from peoplesync.people.store import PeopleStore
from peoplesync.sync.mapping import Direction
from peoplesync.sync.profile.schedule import Kind
from peoplesync.sync.profile.schedule_plan import Due, due_steps, schedule_of, schedule_rows
from peoplesync.sync.profile.store import load_profile
from peoplesync.sync.status.store import StatusStore


def last_runs(last_sync: dict[str, str]) -> dict[str, datetime | None]:
    """The status's last sync times (ISO text by step) as times."""
    return {step: datetime.fromisoformat(at) for step, at in last_sync.items() if at}


class ScheduleKeeper:
    """Which of an integration's enabled steps of one direction are due, asked each cycle.

    The first cycle also runs every real-time step: it catches up with what changed while
    nothing ran, as passes did before schedules. A step's last run counts from the start of
    the pass it ran in, so steps that ran together stay together; a step whose pass did not
    complete (the status has no newer sync) is due again at once."""

    def __init__(
        self,
        store: PeopleStore,
        statuses: StatusStore,
        integration: str,
        clock: Clock,
        direction: Direction = Direction.INBOUND,
    ) -> None:
        self.store = store
        self.statuses = statuses
        self.integration = integration
        self.clock = clock
        self.direction = direction
        self._first = True
        self._started: dict[str, datetime] = {}  # when the pass a step last ran in started

    async def due(self, *, realtime_every: timedelta | None = None) -> Due:
        """The steps due now (re-reading the stored profile and the last runs)."""
        profile = await load_profile(self.store, self.integration)
        schedules = {
            s.name: schedule_of(s)
            for s in profile.steps
            if s.enabled and s.direction is self.direction
        }
        runs = last_runs(await self.statuses.last_sync(self.integration))
        for name, started in self._started.items():
            finished = runs.get(name)
            if finished is not None and finished >= started:
                runs[name] = started
        if self._first:
            self._first = False
            for name, schedule in schedules.items():
                if schedule.kind is Kind.REALTIME:
                    runs[name] = None
        now = self.clock.now()
        due = due_steps(schedules, runs, now, realtime_every=realtime_every)
        self._started.update(dict.fromkeys(due.now, now))
        return due


async def step_schedules(
    store: PeopleStore, statuses: StatusStore, integration: str
) -> list[dict[str, Any]]:
    """Each step's schedule and next run (``status``, the status page and API)."""
    profile = await load_profile(store, integration)
    runs = last_runs(await statuses.last_sync(integration))
    return schedule_rows(profile, runs, statuses.clock.now())


__all__ = ["ScheduleKeeper", "last_runs", "step_schedules"]
