"""Sending speed limits: even spacing, stored next slot, bounds."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peoplesync.messaging.speed_limit import SpeedLimit, TimeUnit, plan_slots

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def test_500_an_hour_is_one_every_7_2_seconds() -> None:
    slots, after = plan_slots(SpeedLimit(500, TimeUnit.HOUR), None, NOW, 500)
    gaps = {(b - a).total_seconds() for a, b in itertools.pairwise(slots)}
    assert gaps == {7.2}
    assert after == NOW + timedelta(hours=1)
    assert slots[-1] < NOW + timedelta(hours=1)  # 500 fit in the hour


def test_the_stored_slot_carries_on_and_a_late_queue_starts_now() -> None:
    limit = SpeedLimit(20, TimeUnit.MINUTE)
    _first, after = plan_slots(limit, None, NOW, 3)
    second, _ = plan_slots(limit, after, NOW + timedelta(seconds=1), 2)
    assert second[0] == NOW + timedelta(seconds=9)
    late, _ = plan_slots(limit, after, NOW + timedelta(hours=1), 1)
    assert late == [NOW + timedelta(hours=1)]  # no burst to catch up


def test_no_limit_sends_now() -> None:
    slots, after = plan_slots(None, None, NOW, 3)
    assert slots == [NOW] * 3 and after is None


@pytest.mark.parametrize("amount", [0, -1, 100_001])
def test_bounds(amount: int) -> None:
    with pytest.raises(ValueError, match="1 to 100,000"):
        SpeedLimit(amount, TimeUnit.DAY)


@settings(deadline=None)
@given(
    st.integers(1, 100_000),
    st.sampled_from(list(TimeUnit)),
    st.integers(1, 300),
    st.integers(1, 5),
)
def test_any_window_of_one_unit_holds_at_most_the_amount(
    amount: int, unit: TimeUnit, count: int, calls: int
) -> None:
    limit = SpeedLimit(amount, unit)
    slots: list[datetime] = []
    next_free = None
    for call in range(calls):
        planned, next_free = plan_slots(limit, next_free, NOW + timedelta(seconds=call), count)
        slots += planned
    window = {TimeUnit.MINUTE: 60, TimeUnit.HOUR: 3600, TimeUnit.DAY: 86400}[unit]
    assert slots == sorted(slots)
    # amount + 1 messages never fit in one unit: each is a full unit after the one amount back
    for earlier, later in zip(slots, slots[amount:], strict=False):
        assert later - earlier >= timedelta(seconds=window)
