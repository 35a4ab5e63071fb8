"""Schedules: pure next-run arithmetic (property-tested), reading, and which steps are due."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peoplesync.sync.profile.model import Step
from peoplesync.sync.profile.schedule import (
    Kind,
    Schedule,
    next_run,
    parse_every,
    parse_time,
    read_schedule,
)
from peoplesync.sync.profile.schedule_plan import due_steps

moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)
zones = st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"])
times = st.times().map(lambda t: t.replace(second=0, microsecond=0))
intervals = st.one_of(
    st.integers(1, 1440).map(Schedule.minutes),
    st.integers(1, 168).map(Schedule.hours),
    st.integers(1, 1440).map(Schedule.realtime),
)
schedules = st.one_of(
    intervals,
    st.builds(Schedule.daily, times, zones),
    st.just(Schedule.manual()),
)


@settings(deadline=None)
@given(schedules, st.none() | moments, moments)
def test_next_run_is_never_before_now_and_manual_never_runs(
    schedule: Schedule, last: datetime | None, now: datetime
) -> None:
    found = next_run(schedule, last, now)
    if schedule.kind is Kind.MANUAL:
        assert found is None
    else:
        assert found is not None and found >= now


@settings(deadline=None)
@given(intervals, moments, moments)
def test_an_interval_runs_one_period_after_the_last_run(
    schedule: Schedule, last: datetime, now: datetime
) -> None:
    period = schedule.interval()
    assert period is not None
    assert next_run(schedule, last, now) == max(now, last + period)
    assert next_run(schedule, None, now) == now  # never run: due at once


@settings(deadline=None)
@given(times, zones, moments, moments)
def test_daily_runs_at_its_local_time_after_the_last_run_and_not_later_than_a_day(
    at: time, zone: str, last: datetime, now: datetime
) -> None:
    schedule = Schedule.daily(at, zone)
    found = next_run(schedule, last, now)
    assert found is not None
    if found > now:  # not overdue: the first daily time after the last run
        assert found > last
        assert found - last <= timedelta(hours=25)  # a day, plus a clock change
        local = found.astimezone(ZoneInfo(zone))
        # the wall time is ``at``, or an hour later when ``at`` fell in a skipped hour
        shift = (local.hour * 60 + local.minute) - (at.hour * 60 + at.minute)
        assert shift in (0, 60)
    else:  # overdue: the daily time came since the last run
        assert found == now
        assert now - last > timedelta(hours=0)


@settings(deadline=None)
@given(schedules, moments, st.integers(0, 10**6), moments)
def test_a_later_last_run_never_brings_the_next_run_earlier(
    schedule: Schedule, last: datetime, later_by: int, now: datetime
) -> None:
    first = next_run(schedule, last, now)
    second = next_run(schedule, last + timedelta(seconds=later_by), now)
    if first is None or second is None:
        assert first is second is None
    else:
        assert second >= first


@settings(deadline=None)
@given(schedules)
def test_a_schedule_reads_back_from_its_plain_data(schedule: Schedule) -> None:
    assert read_schedule(schedule.to_dict()) == (schedule, [])


def test_daily_when_never_run_waits_for_the_time_of_day() -> None:
    now = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    schedule = Schedule.daily(time(6, 30))
    assert next_run(schedule, None, now) == datetime(2026, 3, 1, 6, 30, tzinfo=UTC)
    after = datetime(2026, 3, 1, 7, 0, tzinfo=UTC)
    assert next_run(schedule, None, after) == datetime(2026, 3, 2, 6, 30, tzinfo=UTC)
    # ran yesterday at 06:30, the machine was off this morning: due now, once
    missed = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert next_run(schedule, datetime(2026, 3, 1, 6, 30, tzinfo=UTC), missed) == missed


def test_daily_in_a_named_zone_follows_its_clock_changes() -> None:
    schedule = Schedule.daily(time(6, 30), "Europe/Paris")
    winter = next_run(
        schedule, datetime(2026, 3, 27, 6, 0, tzinfo=UTC), datetime(2026, 3, 27, 6, 0, tzinfo=UTC)
    )
    summer = next_run(
        schedule, datetime(2026, 3, 30, 6, 0, tzinfo=UTC), datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
    )
    assert winter == datetime(2026, 3, 28, 5, 30, tzinfo=UTC)  # 06:30 CET
    assert summer == datetime(2026, 3, 31, 4, 30, tzinfo=UTC)  # 06:30 CEST


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "weekly"}, "schedule.kind"),
        ({"kind": "minutes"}, "schedule.every"),
        ({"kind": "minutes", "every": 0}, "schedule.every"),
        ({"kind": "hours", "every": 500}, "schedule.every"),
        ({"kind": "minutes", "every": True}, "schedule.every"),
        ({"kind": "daily", "at": "25:00"}, "schedule.at"),
        ({"kind": "daily", "at": "06:30", "timezone": "Mars/Olympus"}, "schedule.timezone"),
        ({"kind": "manual", "often": 3}, "schedule.often"),
        ({"kind": "minutes", "every": 5, "at": "06:00"}, "schedule.at"),
        ({"kind": "daily", "at": "06:00", "every": 1}, "schedule.every"),
        ({"kind": "manual", "timezone": "UTC"}, "schedule.timezone"),
        ("every day", "schedule"),
    ],
)
def test_bad_schedules_name_the_field(data: object, field: str) -> None:
    schedule, problems = read_schedule(data)
    assert schedule is None
    assert [p.field for p in problems] == [field]


def test_real_time_defaults_its_poll_and_texts_parse() -> None:
    assert read_schedule({"kind": "realtime"}) == (Schedule.realtime(15), [])
    assert parse_every("15m") == Schedule.minutes(15)
    assert parse_every("2 hours") == Schedule.hours(2)
    assert parse_every("soon") is None
    assert parse_time("6:05") == time(6, 5)
    assert parse_time("06:60") is None
    assert Schedule.daily(time(6, 30), "Europe/Paris").describe() == "daily at 06:30 Europe/Paris"
    assert Schedule.minutes(1).describe() == "every 1 minute"


def test_due_steps_picks_the_due_ones_and_the_next_wake() -> None:
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    due = due_steps(
        {
            "Lead": Schedule.minutes(15),
            "Contact": Schedule.hours(1),
            "Account": Schedule.manual(),
            "Task": Schedule.realtime(),
        },
        {
            "Lead": now - timedelta(minutes=20),
            "Contact": now - timedelta(minutes=10),
            "Task": now - timedelta(minutes=1),
        },
        now,
    )
    assert due.now == {"Lead"}
    assert due.realtime == {"Task"}
    assert due.next_at == now + timedelta(minutes=14)  # Task's reconciliation poll
    assert due.wait(now, 60.0) == 60.0
    assert due.wait(now, 3600.0) == 14 * 60.0
    # a real-time step polls at the loop's own pace when told (pushes; streams down)
    pushed = due_steps(
        {"Task": Schedule.realtime()}, {"Task": now}, now, realtime_every=timedelta(0)
    )
    assert pushed.now == {"Task"}


def test_a_step_without_schedule_keeps_none_in_its_data() -> None:
    assert "schedule" not in Step("Lead", "Lead").to_dict()
