"""Report write-back as a unit of work: one pass of one business unit, through the gated loop
of :mod:`workers.loop <peoplesync.workers.loop>`, as a typed outcome.

``serve``'s supervisor runs it per unit every ``mc_sync_interval`` seconds; a
``peoplesync worker`` runs it as a queue job; both call :meth:`UnitPasses.run`. The pass itself
is ``marketing_cloud.report_sync`` (its lease keeps one pass per unit at a time across
processes). Every pass that ran is kept as the unit's :class:`LastPass`.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx

from peoplesync.errors import ConfigurationError, NotFoundError, PeopleSyncError, RetryableError
from peoplesync.marketing_cloud.client import MarketingCloudClient, client_for
from peoplesync.marketing_cloud.last_pass import LastPass, LastPasses
from peoplesync.marketing_cloud.report_marks import ReportMarks
from peoplesync.marketing_cloud.report_sync import ReportSync, SyncOutcome
from peoplesync.marketing_cloud.sync_lease import SyncLease
from peoplesync.marketing_cloud.units import BusinessUnits, UnitKeys, tls_verify
from peoplesync.sync.status.state import Gate
from peoplesync.workers.loop import Backoff, Once, run_gated
from peoplesync.workers.outcome import Failed, Finished, Idle

LOOP = "mc-reports"  # the loop's name in heartbeats, logs and the job log
Connection = tuple[MarketingCloudClient, httpx.AsyncClient]
Connect = Callable[[UnitKeys], AbstractAsyncContextManager[Connection]]
Said = Finished | Idle | Failed


def connect_with(ca_cert: str | None) -> Connect:
    """Open a unit's client over HTTPS, trusting ``ca_cert`` (else the unit's, else httpx's
    default). Each CA file is loaded once: building a TLS context is most of an idle pass's
    cost otherwise."""
    contexts: dict[str | None, ssl.SSLContext] = {}

    def context(keys: UnitKeys) -> ssl.SSLContext:
        chosen = ca_cert or keys.info.ca_cert
        if chosen not in contexts:
            verify = tls_verify(keys.info, ca_cert)  # an unreadable file: a SettingError
            made = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context()
            contexts[chosen] = made
        return contexts[chosen]

    @asynccontextmanager
    async def connect(keys: UnitKeys) -> AsyncIterator[Connection]:
        async with httpx.AsyncClient(verify=context(keys), timeout=30.0) as http:
            yield client_for(keys, http), http

    return connect


class _Open:
    """A business unit has no pause or API budget of its own: its gate always lets a pass
    run (what a pass did is kept as its :class:`LastPass` instead)."""

    async def gate(self) -> Gate:
        return Gate("run")

    async def failed(self, error: PeopleSyncError) -> None:
        """Kept by :meth:`UnitPasses.run`."""

    async def succeeded(self, detail: str = "") -> None:
        """Kept by :meth:`UnitPasses.run`."""


def next_wait(outcome: Said, interval: float, failures: int, cap: float) -> tuple[float, int]:
    """How long to wait before the unit's next pass, and the failures in a row so far: the
    interval after a pass (or nothing to do), a growing delay after failures (at least the
    error's own ``retry_in``)."""
    if not isinstance(outcome, Failed):
        return interval, 0
    failures += 1
    delay = Backoff(interval, cap).delay(failures)
    return max(delay, outcome.retry_in or 0.0), failures


def summary(name: str, outcome: Said) -> str | None:
    """What to say about a pass (None: nothing worth saying)."""
    if isinstance(outcome, Failed):
        error = outcome.error
        said = str(error) if isinstance(error, PeopleSyncError) else type(error).__name__
        return f"{name}: report write-back failed: {said}"
    if isinstance(outcome, Idle):
        return None
    report: SyncOutcome = outcome.report
    if not report.total and not report.events and not report.errors:
        return None
    kinds = ", ".join(f"{kind} {rows}" for kind, rows in report.written.items() if rows)
    refused = f", {len(report.errors)} refused" if report.errors else ""
    return (
        f"{name}: wrote {report.total} report row(s) to Marketing Cloud ({kinds or 'none'}), "
        f"fired {report.events} event(s){refused}"
    )


class UnitPasses:
    """Write-back passes of the stored business units."""

    def __init__(
        self,
        units: BusinessUnits,
        *,
        by: str,
        connect: Connect | None = None,
        ca_cert: str | None = None,
        lease_seconds: float = 120.0,
        retry_after: float = 30.0,
    ) -> None:
        self.units = units
        self.by = by
        self.last = LastPasses(units.engine, units.clock)
        self._connect = connect or connect_with(ca_cert)
        self._lease_seconds = lease_seconds
        self._retry_after = retry_after

    async def names(self) -> list[str]:
        """Every stored unit's name."""
        return [unit.name for unit in await self.units.list()]

    async def forget(self, name: str) -> None:
        """A removed unit's last pass is dropped (a unit added again by that name starts
        afresh)."""
        await self.last.forget(name)

    async def run(self, name: str) -> Said:
        """One pass of ``name``: Finished (its :class:`SyncOutcome`), Idle (the unit is gone, or
        another process holds its lease), or Failed (``retry_in`` when trying again may help).
        A pass that ran is kept as the unit's last pass, with its error if it failed."""
        try:
            keys = await self.units.keys(name)
        except NotFoundError:
            await self.forget(name)
            return Idle(f"no business unit {name!r}")
        try:
            outcome = await self._pass(keys)
        except PeopleSyncError as error:  # the connection could not be opened
            retry = self._retry_after if isinstance(error, RetryableError) else None
            outcome = Failed(error, retry)
        if isinstance(outcome, Finished) and outcome.report.locked_until is not None:
            until = outcome.report.locked_until.isoformat(timespec="seconds")
            return Idle(f"another process holds business unit {name!r} until {until}")
        await self.last.record(self._last(name, outcome))
        return outcome

    async def _pass(self, keys: UnitKeys) -> Said:
        clock = self.units.clock
        async with self._connect(keys) as (client, http):
            sync = ReportSync(
                keys.info,
                ReportMarks(self.units.engine, clock),
                client,
                http,
                lease=SyncLease(
                    self.units.engine, clock, keys.info.name, seconds=self._lease_seconds
                ),
            )
            ran = await run_gated(
                Once(sync.run_once),
                _Open(),
                clock,
                follow=False,
                interval=self._retry_after,
                backoff=Backoff(self._retry_after),
            )
        if isinstance(ran, Finished | Failed):
            return ran
        return Failed(ran.cause or ConfigurationError(ran.describe()))  # never from _Open

    def _last(self, name: str, outcome: Said) -> LastPass:
        now = self.units.clock.now()
        if isinstance(outcome, Finished):
            report: SyncOutcome = outcome.report
            return LastPass(
                name, now, dict(report.written), report.events, len(report.errors), by=self.by
            )
        error = outcome.error if isinstance(outcome, Failed) else None
        said = str(error) if isinstance(error, PeopleSyncError) else type(error).__name__
        return LastPass(name, now, error=said, by=self.by)


__all__ = ["LOOP", "Connect", "UnitPasses", "connect_with", "next_wait", "summary"]
