"""The gated loop on a manual clock: its pure decisions, and the runner around them with a
scripted gate and pass body (sleeps are recorded, not slept)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from peoplesync.clock import ManualClock
from peoplesync.errors import ConfigurationError, PeopleSyncError, RetryableError
from peoplesync.salesforce.failure import (
    ApiLimitReachedError,
    ReconnectNeededError,
    SalesforceUnavailableError,
)
from peoplesync.sync.status.state import Gate
from peoplesync.workers.events import Event, PassDone, Retrying, Waiting
from peoplesync.workers.loop import Backoff, Once, Run, Wait, on_error, on_gate, run_gated
from peoplesync.workers.outcome import Failed, Finished, Gated

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


# --- pure decisions ------------------------------------------------------------------------


def test_backoff_doubles_up_to_its_cap_and_never_below_its_first_delay() -> None:
    backoff = Backoff(2.0, cap=60.0)
    assert [backoff.delay(n) for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]
    assert Backoff(90.0, cap=60.0).delay(5) == 90.0  # a long interval is not cut short
    assert Backoff(1.0).delay(10_000) == 60.0  # no overflow after many failures


def test_an_open_gate_runs_and_a_refusing_gate_ends_the_run() -> None:
    assert on_gate(Gate("run"), NOW, follow=False, interval=5) == Run()
    assert on_gate(Gate("probe"), NOW, follow=True, interval=5) == Run()
    paused = on_gate(Gate("refuse", "paused by a person"), NOW, follow=True, interval=5)
    assert paused == Gated("refused", "paused by a person")


def test_a_spent_allowance_ends_a_single_run_and_holds_a_following_one() -> None:
    until = NOW + timedelta(minutes=10)
    spent = Gate("wait", "budget spent", until)
    assert on_gate(spent, NOW, follow=False, interval=5) == Gated(
        "api_limit_reached", "budget spent", until
    )
    # Following: wait for the allowance, but look again at least every interval.
    assert on_gate(spent, NOW, follow=True, interval=5) == Wait(5, "budget spent", until)
    soon = Gate("wait", "budget spent", NOW + timedelta(seconds=2))
    assert on_gate(soon, NOW, follow=True, interval=5) == Wait(2, "budget spent", soon.until)
    past = Gate("wait", "budget spent", NOW - timedelta(seconds=2))
    assert on_gate(past, NOW, follow=True, interval=5) == Wait(0.05, "budget spent", past.until)


def test_errors_are_classed_by_what_the_loop_should_do() -> None:
    backoff = Backoff(2.0)
    busy = SalesforceUnavailableError("503")
    limit = ApiLimitReachedError("spent", until=NOW)
    revoked = ReconnectNeededError("token revoked")
    broken = ConfigurationError("no such step")

    assert on_error(busy, follow=True, failures=3, backoff=backoff) == Wait(8.0)
    assert on_error(limit, follow=True, failures=1, backoff=backoff) == Wait(0.0)
    assert on_error(limit, follow=False, failures=1, backoff=backoff) == Gated(
        "api_limit_reached", "spent", NOW, limit.hint, cause=limit
    )
    for follow in (True, False):
        gated = on_error(revoked, follow=follow, failures=1, backoff=backoff)
        assert isinstance(gated, Gated) and gated.state == "reconnect_needed"
        assert gated.cause is revoked
        assert on_error(broken, follow=follow, failures=1, backoff=backoff) == Failed(broken)
    # Once, a retryable error ends the run but says when trying again may help.
    assert on_error(busy, follow=False, failures=2, backoff=backoff) == Failed(busy, 4.0)


def test_a_gated_outcome_describes_itself_in_one_line() -> None:
    until = datetime(2026, 3, 1, 13, 0, 5, 123, tzinfo=UTC)
    gated = Gated("api_limit_reached", "the budget is spent", until)
    assert (
        gated.describe() == "api_limit_reached until 2026-03-01T13:00:05+00:00: the budget is spent"
    )
    assert Gated("refused", "paused").describe() == "refused: paused"


# --- the runner --------------------------------------------------------------------------


class ScriptedGate:
    """Gate decisions in order (the last repeats), and what the loop recorded."""

    def __init__(self, decisions: Iterable[Gate]) -> None:
        self.decisions = list(decisions)
        self.recorded: list[str] = []

    async def gate(self) -> Gate:
        return self.decisions.pop(0) if len(self.decisions) > 1 else self.decisions[0]

    async def failed(self, error: PeopleSyncError) -> None:
        self.recorded.append(f"failed {type(error).__name__}")

    async def succeeded(self, detail: str = "") -> None:
        self.recorded.append("succeeded")


class ScriptedBody:
    """Passes that return or raise from a script; stops the run (cancels) when it is done."""

    def __init__(self, script: list[int | PeopleSyncError]) -> None:
        self.script = script
        self.calls: list[str] = []

    async def run(self, first: bool) -> int:
        self.calls.append(f"run first={first}")
        step = self.script.pop(0)
        if isinstance(step, PeopleSyncError):
            raise step
        return step

    async def rest(self) -> None:
        self.calls.append("rest")
        if not self.script:
            raise _Done

    async def hold(self) -> None:
        self.calls.append("hold")


class _Done(Exception):
    """Ends a following run in a test (as a cancellation would)."""


class Sleeps:
    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.slept: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.advance(timedelta(seconds=seconds))


async def test_one_pass_through_an_open_gate_finishes_with_its_report() -> None:
    clock, gate, body = ManualClock(NOW), ScriptedGate([Gate("run")]), ScriptedBody([7])
    heard: list[Event] = []
    outcome = await run_gated(
        body, gate, clock, follow=False, interval=5, events=heard.append, sleep=Sleeps(clock)
    )
    assert outcome == Finished(7)
    assert heard == [PassDone(7)]
    assert gate.recorded == ["succeeded"]
    assert body.calls == ["run first=True"]


async def test_a_refusing_gate_runs_nothing() -> None:
    clock = ManualClock(NOW)
    gate, body = ScriptedGate([Gate("refuse", "paused")]), ScriptedBody([1])
    outcome = await run_gated(body, gate, clock, follow=True, interval=5, sleep=Sleeps(clock))
    assert outcome == Gated("refused", "paused")
    assert body.calls == [] and gate.recorded == []


async def test_following_retries_with_backoff_then_resets_after_a_success() -> None:
    clock = ManualClock(NOW)
    sleeps = Sleeps(clock)
    busy = SalesforceUnavailableError("503")
    body = ScriptedBody([busy, busy, 1, busy, 2])
    heard: list[Event] = []
    with pytest.raises(_Done):
        await run_gated(
            body,
            ScriptedGate([Gate("run")]),
            clock,
            follow=True,
            interval=2,
            events=heard.append,
            sleep=sleeps,
        )
    assert sleeps.slept == [2, 4, 2]  # the third failure follows a success: back to 2
    assert [type(e) for e in heard] == [Retrying, Retrying, PassDone, Retrying, PassDone]
    # The first pass that went through was the first; retried passes are still "first".
    assert body.calls[:3] == ["run first=True"] * 3
    assert body.calls[4] == "run first=False"


async def test_a_spent_allowance_holds_a_following_loop_until_the_gate_opens() -> None:
    clock = ManualClock(NOW)
    sleeps = Sleeps(clock)
    until = NOW + timedelta(seconds=12)
    gate = ScriptedGate([Gate("wait", "spent", until), Gate("wait", "spent", until), Gate("run")])
    body = ScriptedBody([3])
    heard: list[Event] = []
    with pytest.raises(_Done):
        await run_gated(
            body, gate, clock, follow=True, interval=10, events=heard.append, sleep=sleeps
        )
    assert sleeps.slept == [10, 2]  # at most an interval at a time, then what is left
    assert body.calls == ["hold", "hold", "run first=True", "rest"]
    assert heard[0] == Waiting("spent", until, 10)


async def test_a_stop_error_is_recorded_and_ends_the_run_as_failed() -> None:
    clock = ManualClock(NOW)
    broken = ConfigurationError("the profile is broken")
    gate = ScriptedGate([Gate("run")])
    outcome = await run_gated(
        ScriptedBody([broken]), gate, clock, follow=True, interval=2, sleep=Sleeps(clock)
    )
    assert outcome == Failed(broken)
    assert gate.recorded == ["failed ConfigurationError"]


async def test_a_limit_hit_during_a_single_pass_ends_it_gated_with_its_cause() -> None:
    clock = ManualClock(NOW)
    limit = ApiLimitReachedError("spent", until=NOW + timedelta(hours=1))
    gate = ScriptedGate([Gate("run")])
    outcome = await run_gated(
        ScriptedBody([limit]), gate, clock, follow=False, interval=2, sleep=Sleeps(clock)
    )
    assert isinstance(outcome, Gated)
    assert (outcome.state, outcome.until, outcome.cause) == (
        "api_limit_reached",
        limit.until,
        limit,
    )
    assert gate.recorded == ["failed ApiLimitReachedError"]


async def test_a_bug_in_a_pass_propagates_unrecorded() -> None:
    class Broken:
        async def run(self, first: bool) -> int:
            raise KeyError("bug")

        async def rest(self) -> None: ...

        async def hold(self) -> None: ...

    gate = ScriptedGate([Gate("run")])
    with pytest.raises(KeyError):
        await run_gated(Broken(), gate, ManualClock(NOW), follow=True, interval=1)
    assert gate.recorded == []


async def test_once_wraps_a_single_piece_of_work() -> None:
    done: list[str] = []

    async def work() -> str:
        done.append("worked")
        return "report"

    clock = ManualClock(NOW)
    outcome = await run_gated(
        Once(work), ScriptedGate([Gate("run")]), clock, follow=False, interval=0
    )
    assert outcome == Finished("report") and done == ["worked"]
    retryable = RetryableError("database busy")

    async def fails() -> str:
        raise retryable

    failed = await run_gated(
        Once(fails), ScriptedGate([Gate("run")]), clock, follow=False, interval=0
    )
    assert isinstance(failed, Failed) and failed.error is retryable
