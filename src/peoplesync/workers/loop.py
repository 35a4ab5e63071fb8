"""The one gated loop every run of sync work goes through: inbound passes, change streams'
polling partner, pushes and transfers.

Before each pass it asks the integration's status gate; it runs the pass, records success or
failure in the status, retries with a growing delay while following, and returns an
:mod:`outcome <peoplesync.workers.outcome>`. The decisions (:func:`on_gate`,
:func:`on_error`, :class:`Backoff`) are pure; :func:`run_gated` is the thin runner around them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from peoplesync.clock import Clock
from peoplesync.errors import PeopleSyncError, RetryableError
from peoplesync.salesforce.failure import ApiLimitReachedError, ReconnectNeededError
from peoplesync.sync.status.state import Gate
from peoplesync.workers.events import EventSink, PassDone, Retrying, Waiting, ignore
from peoplesync.workers.outcome import Failed, Finished, Gated

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
Sleep = Callable[[float], Awaitable[Any]]
SHORTEST_WAIT = 0.05  # seconds: never spin on a gate whose time is (almost) up


class StatusGate(Protocol):
    """The integration's status as the loop uses it (a ``StatusRecorder``)."""

    async def gate(self) -> Gate: ...

    async def failed(self, error: PeopleSyncError) -> None: ...

    async def succeeded(self, detail: str = "") -> None: ...


class PassBody(Protocol[R_co]):
    """The work between two looks at the gate."""

    async def run(self, first: bool) -> R_co:
        """One pass (``first`` the first of this run); its report."""
        ...

    async def rest(self) -> None:
        """Wait between two passes while following."""
        ...

    async def hold(self) -> None:
        """The gate holds the loop: let go of live work (change streams) meanwhile."""
        ...


class Once(Generic[R]):
    """A body that is one piece of work (a transfer, a job): nothing between passes."""

    def __init__(self, work: Callable[[], Awaitable[R]]) -> None:
        self.work = work

    async def run(self, first: bool) -> R:
        return await self.work()

    async def rest(self) -> None:
        """A single pass never rests."""

    async def hold(self) -> None:
        """Nothing runs beside it."""


@dataclass(frozen=True)
class NotDue:
    """What a pass returns when its schedules made nothing due: it has waited for the next
    due time (at most one interval); the loop looks at the gate again, records nothing."""


NOT_DUE = NotDue()


@dataclass(frozen=True)
class Run:
    """Run the pass now."""


@dataclass(frozen=True)
class Wait:
    """Sleep this many seconds, then look at the gate again (``reason``: the gate's)."""

    seconds: float
    reason: str = ""
    until: datetime | None = None


@dataclass(frozen=True)
class Backoff:
    """Delays after consecutive failures: ``first``, doubling, at most ``cap`` (or ``first``
    when that is longer)."""

    first: float
    cap: float = 60.0

    def delay(self, failures: int) -> float:
        """The wait after the ``failures``-th failure in a row (1 for the first)."""
        grown: float = self.first * 2.0 ** max(0, min(failures - 1, 30))
        return min(grown, max(self.cap, self.first))


def on_gate(decision: Gate, now: datetime, *, follow: bool, interval: float) -> Run | Wait | Gated:
    """What the gate's ``decision`` means for the loop: run, wait (following), or end."""
    if decision.action == "refuse":
        return Gated("refused", decision.reason)
    if decision.action == "wait":
        if not follow:
            return Gated("api_limit_reached", decision.reason, decision.until)
        left = ((decision.until or now) - now).total_seconds()
        return Wait(max(SHORTEST_WAIT, min(left, interval)), decision.reason, decision.until)
    return Run()


def on_error(
    error: PeopleSyncError, *, follow: bool, failures: int, backoff: Backoff
) -> Wait | Gated | Failed:
    """What a pass ending on ``error`` (the ``failures``-th in a row) means for the loop."""
    if follow and isinstance(error, ApiLimitReachedError):
        return Wait(0.0)  # the status now holds the limit: the gate says how long to wait
    if follow and isinstance(error, RetryableError):
        return Wait(backoff.delay(failures))
    if isinstance(error, ApiLimitReachedError):
        return Gated("api_limit_reached", error.message, error.until, error.hint, cause=error)
    if isinstance(error, ReconnectNeededError):
        return Gated("reconnect_needed", str(error), hint=error.hint, cause=error)
    retry_in = backoff.delay(failures) if isinstance(error, RetryableError) else None
    return Failed(error, retry_in)


async def run_gated(
    body: PassBody[R],
    status: StatusGate,
    clock: Clock,
    *,
    follow: bool,
    interval: float,
    backoff: Backoff | None = None,
    events: EventSink = ignore,
    sleep: Sleep = asyncio.sleep,
) -> Finished | Gated | Failed:
    """Passes of ``body`` through the gate: one (``follow`` False) or until cancelled.

    Each pass that goes through is recorded as a success and told to ``events`` as
    :class:`PassDone`; one that fails is recorded as a failure, then retried (following) or
    ends the run. Errors outside :class:`PeopleSyncError` (bugs) propagate.
    """
    backoff = backoff or Backoff(interval)
    failures = 0
    first = True
    while True:
        move = on_gate(await status.gate(), clock.now(), follow=follow, interval=interval)
        if isinstance(move, Gated):
            return move
        if isinstance(move, Wait):
            await body.hold()
            events(Waiting(move.reason, move.until, move.seconds))
            await sleep(move.seconds)
            continue
        try:
            report = await body.run(first)
        except PeopleSyncError as error:
            await status.failed(error)
            failures += 1
            after = on_error(error, follow=follow, failures=failures, backoff=backoff)
            if isinstance(after, Wait):
                events(Retrying(error, after.seconds))
                await sleep(after.seconds)
                continue
            return after
        if isinstance(report, NotDue):
            continue
        await status.succeeded()
        failures = 0
        first = False
        events(PassDone(report))
        if not follow:
            return Finished(report)
        await body.rest()


__all__ = [
    "NOT_DUE",
    "Backoff",
    "NotDue",
    "Once",
    "PassBody",
    "Run",
    "StatusGate",
    "Wait",
    "on_error",
    "on_gate",
    "run_gated",
]
