"""The one adapter between queue jobs and the passes that do the work.

Every queue task calls the sync engine through :class:`Passes` only. It runs the gated loops
of ``workers/`` that ``sync run --follow`` and ``push run --follow`` use, bounded by a hold
time, and the transfer runner, and turns their outcomes into a job's :class:`PassResult`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from peoplesync.errors import PeopleSyncError
from peoplesync.sync.profile.store import load_profile
from peoplesync.sync.status.state import gate
from peoplesync.wiring import Services
from peoplesync.workers.events import ignore
from peoplesync.workers.inbound import inbound_passes
from peoplesync.workers.outcome import Failed, Finished, Gated, Idle, Stopped
from peoplesync.workers.push import push_passes
from peoplesync.workers.report_sync import Said, UnitPasses, summary
from peoplesync.workers.sends import message_sends
from peoplesync.workers.transfer_runs import TransferRuns

log = logging.getLogger(__name__)


class PassOutcome(StrEnum):
    """How a job's pass ended."""

    DONE = "done"  # ran (for its whole hold time, or one pass)
    REFUSED = "refused"  # the status gate refused it (paused, must connect again)
    GONE = "gone"  # the integration no longer exists
    LIMIT = "api_limit"  # the API budget is spent
    NOTHING = "nothing"  # nothing to do (no outbound steps, transfer taken or finished)
    FAILED = "failed"


@dataclass(frozen=True)
class PassResult:
    """A pass's outcome and what to say about it."""

    outcome: PassOutcome
    detail: str = ""


class Passes(Protocol):
    """What queue tasks may ask of the sync engine."""

    async def runnable(self) -> dict[str, bool]:
        """Every integration, and whether its status gate lets passes run now."""
        ...

    async def interrupted_transfers(self) -> dict[str, str]:
        """Transfers whose process died (job id -> integration)."""
        ...

    async def pushing(self) -> set[str]:
        """The integrations whose profile enables outbound steps (the others push nothing)."""
        ...

    async def inbound(self, name: str, hold: float | None) -> PassResult:
        """Hold the change streams with reconcile polls for ``hold`` seconds (None: one
        polling pass of every enabled inbound step)."""
        ...

    async def push(self, name: str, hold: float | None) -> PassResult:
        """Run the push loop for ``hold`` seconds (None: one pass)."""
        ...

    async def transfer(self, job_id: str) -> PassResult:
        """Resume an interrupted transfer from its stored position."""
        ...

    async def sends(self, hold: float) -> PassResult:
        """Send queued messages for ``hold`` seconds (the round under way ends first)."""
        ...

    async def business_units(self) -> list[str]:
        """Every Marketing Cloud business unit's name."""
        ...

    async def reports(self, unit: str) -> PassResult:
        """One report write-back pass of the business unit ``unit``."""
        ...


class EnginePasses:
    """:class:`Passes` on today's inbound, push and transfer loops."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings = services.settings
        self.store = services.people
        self.clock = services.clock
        self.statuses = services.statuses
        self.units = UnitPasses(
            services.units,
            by="worker",
            ca_cert=self.settings.mc_ca_cert,
            lease_seconds=self.settings.mc_sync_lease,
        )

    async def _gate(self, name: str) -> PassResult | None:
        """Why a pass of ``name`` may not run now (None: it may)."""
        if await self.store.get_state(f"integration:{name}") is None:
            return PassResult(PassOutcome.GONE, f"no integration {name!r}")
        decision = gate(await self.statuses.status(name), self.clock.now())
        if decision.action == "refuse":
            return PassResult(PassOutcome.REFUSED, decision.reason)
        return None

    async def runnable(self) -> dict[str, bool]:
        return {
            name: await self._gate(name) is None for name in await self.services.integration_names()
        }

    async def interrupted_transfers(self) -> dict[str, str]:
        jobs = await self.services.transfer_jobs().unfinished()
        now = self.clock.now()
        return {job.id: job.integration for job in jobs if job.shown_state(now) == "interrupted"}

    async def pushing(self) -> set[str]:
        names = await self.services.integration_names()
        return {name for name in names if (await load_profile(self.store, name)).outbound_steps()}

    async def inbound(self, name: str, hold: float | None) -> PassResult:
        refused = await self._gate(name)
        if refused is not None:
            return refused
        run = inbound_passes(
            self.settings,
            self.store,
            self.statuses,
            name,
            follow=hold is not None,
            interval=self.settings.worker_sync_interval,
            reconcile_every=self.settings.worker_reconcile_every,
            started_by="worker",
        )
        return await _bounded(run, hold)

    async def push(self, name: str, hold: float | None) -> PassResult:
        refused = await self._gate(name)
        if refused is not None:
            return refused
        async with self.services.org_client(name) as client:
            run = push_passes(
                self.store,
                self.statuses,
                client,
                name,
                follow=hold is not None,
                interval=self.settings.worker_push_interval,
            )
            return await _bounded(run, hold)

    async def transfer(self, job_id: str) -> PassResult:
        runs = TransferRuns(self.services)
        job = await runs.resume(job_id)
        if job is None:
            return PassResult(PassOutcome.NOTHING, f"transfer {job_id} is not interrupted")
        await runs.wait()
        done = await runs.jobs.get(job_id)
        if done is None or done.state != "done":
            return PassResult(PassOutcome.FAILED, done.message if done else "transfer vanished")
        return PassResult(PassOutcome.DONE, f"read {done.read}, applied {done.applied}")

    async def sends(self, hold: float) -> PassResult:
        stop = asyncio.Event()
        # Stop between rounds rather than cancel one: a provider call is never cut short.
        timer = asyncio.get_running_loop().call_later(hold, stop.set)
        try:
            outcome = await message_sends(self.settings)(stop, ignore)
        except PeopleSyncError as error:
            return PassResult(PassOutcome.FAILED, str(error))
        finally:
            timer.cancel()
        if isinstance(outcome, Finished | Stopped):  # the hold is over
            return PassResult(PassOutcome.DONE, f"held {hold:g} s")
        return result_of(outcome)

    async def business_units(self) -> list[str]:
        return await self.units.names()

    async def reports(self, unit: str) -> PassResult:
        return report_result(unit, await self.units.run(unit))


def report_result(unit: str, outcome: Said) -> PassResult:
    """A write-back pass's outcome as a job's result."""
    if isinstance(outcome, Finished):
        return PassResult(PassOutcome.DONE, summary(unit, outcome) or f"{unit}: nothing new")
    return result_of(outcome)


async def _bounded(
    run: Coroutine[Any, Any, Finished | Idle | Gated | Failed], hold: float | None
) -> PassResult:
    """Run a loop (for at most ``hold`` seconds) and say how it ended."""
    try:
        if hold is None:
            outcome = await run
        else:
            async with asyncio.timeout(hold):
                outcome = await run
    except TimeoutError:
        return PassResult(PassOutcome.DONE, f"held {hold:g} s")
    except PeopleSyncError as error:
        return PassResult(PassOutcome.FAILED, str(error))
    return result_of(outcome)


def result_of(outcome: Finished | Idle | Gated | Failed) -> PassResult:
    """A loop's outcome as a job's result."""
    if isinstance(outcome, Gated):
        kind = PassOutcome.LIMIT if outcome.state == "api_limit_reached" else PassOutcome.REFUSED
        when = f" until {outcome.until.isoformat(timespec='seconds')}" if outcome.until else ""
        return PassResult(kind, f"{outcome.state}{when}: {outcome.reason}")
    if isinstance(outcome, Failed):
        return PassResult(PassOutcome.FAILED, str(outcome.error))
    if isinstance(outcome, Idle):
        return PassResult(PassOutcome.NOTHING, outcome.reason)
    return PassResult(PassOutcome.DONE)
