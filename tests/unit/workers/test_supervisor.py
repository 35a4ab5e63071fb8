"""The sync workers' supervision decisions: how long to wait before a loop starts again, and
what is said about how it ended."""

from __future__ import annotations

from datetime import UTC, datetime

from peoplesync.errors import ConfigurationError
from peoplesync.workers.outcome import Failed, Finished, Gated, Idle, Stopped
from peoplesync.workers.supervisor import after_run, describe


def test_failures_in_a_row_wait_longer_and_longer_up_to_a_minute() -> None:
    delay, waits = 2.0, []
    for _ in range(7):
        wait, delay = after_run(Failed(ConfigurationError("x")), delay, check_every=2.0, idle=30.0)
        waits.append(wait)
    assert waits == [2, 4, 8, 16, 32, 60, 60]


def test_a_gated_loop_backs_off_like_a_failure() -> None:
    assert after_run(Gated("refused", "paused"), 8.0, check_every=2.0, idle=30.0) == (8.0, 16.0)


def test_nothing_to_do_waits_the_idle_time_and_forgets_past_failures() -> None:
    for outcome in (Idle("no outbound steps"), Finished({})):
        assert after_run(outcome, 32.0, check_every=2.0, idle=30.0) == (30.0, 2.0)


def test_a_loop_stopped_by_the_gate_starts_again_as_soon_as_it_opens() -> None:
    assert after_run(Stopped("paused"), 16.0, check_every=2.0, idle=30.0) == (0.0, 16.0)


def test_what_is_said_names_the_integration_the_loop_and_why() -> None:
    until = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)
    assert (
        describe("acme", "push", Gated("api_limit_reached", "spent", until))
        == "acme: push api_limit_reached until 2026-03-01T13:00:00+00:00: spent"
    )
    assert describe("acme", "sync", Failed(ConfigurationError("broken"))) == (
        "acme: sync worker stopped: broken"
    )
    assert describe("acme", "sync", Failed(KeyError("k"))) == (
        "acme: sync worker failed: KeyError: 'k'"
    )
    assert describe("acme", "sync", Stopped("the integration may not run now")) == (
        "acme: sync worker stopped (the integration may not run now)"
    )
    assert describe("acme", "push", Idle("no steps")) is None
