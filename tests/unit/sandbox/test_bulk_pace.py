"""How long bulk jobs take and which ones the org ends itself."""

from __future__ import annotations

import random

import pytest

from peoplesync.sandbox.salesforce.bulk_pace import fate, queued_seconds, wait_after
from peoplesync.sandbox.salesforce.config import FaultKnobs


def test_rows_take_their_share_of_time_at_each_rate() -> None:
    knobs = FaultKnobs(bulk_rows_per_second=10_000, bulk_query_rows_per_second=100_000)
    assert wait_after(knobs, 20_000, 0.5) == pytest.approx(1.5)
    assert wait_after(knobs, 20_000, 0.5, query=True) == 0.0  # already took longer
    assert wait_after(knobs, 300_000, 1.0, query=True) == pytest.approx(2.0)
    assert wait_after(FaultKnobs(bulk_rows_per_second=0), 1_000_000, 0.0) == 0.0


def test_the_default_pace_is_an_orgs_not_instant() -> None:
    knobs = FaultKnobs()
    assert queued_seconds(knobs) >= 1.0
    assert wait_after(knobs, 100_000, 0.0) >= 5.0


def test_fates_follow_the_rates_and_the_seed() -> None:
    draws = [fate(FaultKnobs(rate_bulk_failed=0.2, rate_bulk_aborted=0.3), random.Random(7))]
    knobs = FaultKnobs(rate_bulk_failed=0.2, rate_bulk_aborted=0.3)
    seen = [fate(knobs, draw) for draw in [random.Random(7)] for _ in range(2_000)]
    assert 0.15 < seen.count("Failed") / len(seen) < 0.25
    assert 0.25 < seen.count("Aborted") / len(seen) < 0.35
    assert seen[0] == draws[0]  # same seed, same fate
    assert {fate(FaultKnobs(), random.Random(n)) for n in range(50)} == {""}
    assert {fate(FaultKnobs(rate_bulk_failed=1.0), random.Random(n)) for n in range(50)} == {
        "Failed"
    }
