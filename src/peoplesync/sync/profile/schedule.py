"""When a step runs: its schedule as data, and the pure arithmetic of its next run.

A step runs in real time (Change Data Capture as changes happen, plus a reconciliation poll
every N minutes; a push runs as People changes), every N minutes, every N hours, daily at a
time of day, or only when a person asks (``sync run``, Run now). A step without a schedule
keeps the behaviour peoplesync had before schedules: real time, both ways.

Daily times are read in the schedule's own time zone, UTC unless it names one (an IANA name
such as ``Europe/Paris``); a time that does not exist on a day (the hour skipped when the
clocks go forward) runs at the instant the wall clock jumps to, and a time that happens
twice (clocks going back) runs at its first occurrence.

``next_run`` never returns a time before ``now``: a run that is due returns ``now``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REALTIME_POLL_MINUTES = 15  # the reconciliation poll beside the change streams (as before)
MAX_MINUTES = 24 * 60
MAX_HOURS = 7 * 24
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_EVERY = re.compile(r"(\d+)\s*(m|min|minutes?|h|hours?)")


class Kind(StrEnum):
    """The kinds of schedule."""

    REALTIME = "realtime"
    MINUTES = "minutes"
    HOURS = "hours"
    DAILY = "daily"
    MANUAL = "manual"


@dataclass(frozen=True)
class ScheduleProblem:
    """One thing wrong with one field of a schedule (``schedule.every``...)."""

    field: str
    message: str
    hint: str = ""


@dataclass(frozen=True)
class Schedule:
    """A step's schedule. ``every`` is minutes (real time's poll, minutes) or hours (hours);
    ``at`` and ``timezone`` serve daily schedules."""

    kind: Kind
    every: int | None = None
    at: time | None = None
    timezone: str = "UTC"

    @classmethod
    def realtime(cls, poll_minutes: int = REALTIME_POLL_MINUTES) -> Schedule:
        """Change streams as changes happen, and a reconciliation poll every N minutes."""
        return cls(Kind.REALTIME, every=poll_minutes)

    @classmethod
    def minutes(cls, every: int) -> Schedule:
        """A pass every ``every`` minutes."""
        return cls(Kind.MINUTES, every=every)

    @classmethod
    def hours(cls, every: int) -> Schedule:
        """A pass every ``every`` hours."""
        return cls(Kind.HOURS, every=every)

    @classmethod
    def daily(cls, at: time, timezone: str = "UTC") -> Schedule:
        """A pass a day at ``at`` in ``timezone``."""
        return cls(Kind.DAILY, at=at, timezone=timezone)

    @classmethod
    def manual(cls) -> Schedule:
        """No pass unless a person asks for one."""
        return cls(Kind.MANUAL)

    def interval(self) -> timedelta | None:
        """The time between passes (None for daily and manual)."""
        if self.every is None:
            return None
        if self.kind is Kind.HOURS:
            return timedelta(hours=self.every)
        if self.kind in (Kind.MINUTES, Kind.REALTIME):
            return timedelta(minutes=self.every)
        return None

    def describe(self) -> str:
        """The schedule in words, for pages and the CLI."""
        if self.kind is Kind.REALTIME:
            return f"real time (reconcile poll every {self.every} min)"
        if self.kind is Kind.MINUTES:
            return f"every {self.every} minute{'s' if self.every != 1 else ''}"
        if self.kind is Kind.HOURS:
            return f"every {self.every} hour{'s' if self.every != 1 else ''}"
        if self.kind is Kind.DAILY and self.at is not None:
            return f"daily at {self.at.strftime('%H:%M')} {self.timezone}"
        return "manual only"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for YAML and JSON (only the fields the kind uses)."""
        data: dict[str, Any] = {"kind": self.kind.value}
        if self.kind in (Kind.REALTIME, Kind.MINUTES, Kind.HOURS):
            data["every"] = self.every
        if self.kind is Kind.DAILY and self.at is not None:
            data["at"] = self.at.strftime("%H:%M")
            if self.timezone != "UTC":
                data["timezone"] = self.timezone
        return data


def default_schedule() -> Schedule:
    """What a step without a schedule does: real time (as before schedules existed)."""
    return Schedule.realtime()


def next_run(schedule: Schedule, last_run_at: datetime | None, now: datetime) -> datetime | None:
    """When the step runs next: ``now`` when it is due, None when it runs only on request.

    ``last_run_at`` is when its last pass finished (None: never); times are aware."""
    if schedule.kind is Kind.MANUAL:
        return None
    if schedule.kind is Kind.DAILY:
        return max(now, _next_daily(schedule, last_run_at, now))
    step = schedule.interval()
    if last_run_at is None or step is None:
        return now
    return max(now, last_run_at + step)


def _next_daily(schedule: Schedule, last_run_at: datetime | None, now: datetime) -> datetime:
    """The first daily time after the last run (never run: at or after ``now``)."""
    zone = ZoneInfo(schedule.timezone)
    at = schedule.at or time(0, 0)
    reference = last_run_at if last_run_at is not None else now
    day = reference.astimezone(zone).date() - timedelta(days=1)
    while True:
        candidate = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
        if candidate > reference or (last_run_at is None and candidate == reference):
            return candidate
        day += timedelta(days=1)


def read_schedule(
    data: Any, where: str = "schedule"
) -> tuple[Schedule | None, list[ScheduleProblem]]:
    """A schedule from plain data (``{kind: minutes, every: 15}``), or every problem found,
    each naming its field (``schedule.every``)."""
    if not isinstance(data, Mapping):
        hint = "e.g. {kind: minutes, every: 15} or {kind: daily, at: '06:30'}"
        return None, [ScheduleProblem(where, f"expected a mapping, got {data!r}", hint)]
    problems: list[ScheduleProblem] = []
    allowed = {"kind", "every", "at", "timezone"}
    for key in data:
        if key not in allowed:
            problems.append(
                ScheduleProblem(f"{where}.{key}", "unknown key", f"use one of: {sorted(allowed)}")
            )
    kinds = ", ".join(k.value for k in Kind)
    try:
        kind = Kind(str(data.get("kind")))
    except ValueError:
        problems.append(
            ScheduleProblem(
                f"{where}.kind", f"{data.get('kind')!r} is not one of {kinds}", f"use {kinds}"
            )
        )
        return None, problems
    uses = {Kind.DAILY: {"at", "timezone"}, Kind.MANUAL: set()}.get(kind, {"every"})
    for key in sorted((allowed - {"kind"} - uses) & set(data)):
        problems.append(
            ScheduleProblem(f"{where}.{key}", f"a {kind.value} schedule has no {key}", "remove it")
        )
    if kind is Kind.DAILY:
        at, zone, found = _read_daily(data, where)
        problems += found
        return (None if problems or at is None else Schedule.daily(at, zone)), problems
    every = data.get("every")
    if kind is Kind.MANUAL:
        return (None, problems) if problems else (Schedule.manual(), [])
    if kind is Kind.REALTIME and every is None:
        every = REALTIME_POLL_MINUTES
    top = MAX_HOURS if kind is Kind.HOURS else MAX_MINUTES
    unit = "hours" if kind is Kind.HOURS else "minutes"
    if isinstance(every, bool) or not isinstance(every, int) or not 1 <= every <= top:
        problems.append(
            ScheduleProblem(
                f"{where}.every",
                f"expected a whole number of {unit} from 1 to {top}, "
                + ("none was given" if every is None else f"got {every!r}"),
                "e.g. every: 15",
            )
        )
    if problems or not isinstance(every, int):
        return None, problems
    return Schedule(kind, every=every), []


def _read_daily(
    data: Mapping[str, Any], where: str
) -> tuple[time | None, str, list[ScheduleProblem]]:
    problems: list[ScheduleProblem] = []
    text = data.get("at")
    at = parse_time(text) if isinstance(text, str) else None
    if at is None:
        problems.append(
            ScheduleProblem(
                f"{where}.at",
                "expected a time HH:MM, " + ("none was given" if text is None else f"got {text!r}"),
                "e.g. '06:30'",
            )
        )
    zone = data.get("timezone", "UTC")
    if not isinstance(zone, str) or not known_timezone(zone):
        problems.append(
            ScheduleProblem(
                f"{where}.timezone",
                f"{zone!r} is not a known time zone",
                "use an IANA name such as UTC or Europe/Paris",
            )
        )
        zone = "UTC"
    return at, zone, problems


def parse_time(text: str) -> time | None:
    """``06:30`` as a time of day (None when it is not HH:MM)."""
    match = _TIME.fullmatch(text.strip())
    return time(int(match.group(1)), int(match.group(2))) if match else None


def parse_every(text: str) -> Schedule | None:
    """``15m`` / ``2h`` (also ``15 minutes``, ``2 hours``) as a schedule (None if neither)."""
    match = _EVERY.fullmatch(text.strip().lower())
    if match is None:
        return None
    number = int(match.group(1))
    return Schedule.hours(number) if match.group(2).startswith("h") else Schedule.minutes(number)


def known_timezone(name: str) -> bool:
    """Whether ``name`` is a time zone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


__all__ = [
    "Kind",
    "Schedule",
    "ScheduleProblem",
    "default_schedule",
    "known_timezone",
    "next_run",
    "parse_every",
    "parse_time",
    "read_schedule",
]
