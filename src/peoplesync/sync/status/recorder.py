"""Around each sync pass (inbound polls, streams and pushes): the state gate, the API budget,
counters, problems and the log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from peoplesync.clock import Clock
from peoplesync.errors import PeopleSyncError
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.salesforce.failure import ApiLimitReachedError
from peoplesync.sync.inbound.problems import conflict_problem
from peoplesync.sync.inbound.report import InboundReport
from peoplesync.sync.inbound.runner import InboundRunner
from peoplesync.sync.outbound.runner import OutboundReport, OutboundRunner
from peoplesync.sync.status.state import (
    RECHECK,
    BudgetGuard,
    Counts,
    Gate,
    State,
    error_problem,
    failed,
    gate,
    succeeded,
    warning_problem,
)
from peoplesync.sync.status.store import StatusStore

API_STEP = ""  # counter rows of API calls, which are not tied to one step


def report_counts(report: InboundReport) -> Counts:
    """What a report adds to the day's counters (API calls are counted on their own)."""
    return Counts(report.created, report.updated, report.deleted, len(report.rejected))


@dataclass
class _Seen:
    """How much of a stream's running report is recorded already."""

    report: int
    counts: Counts = field(default_factory=Counts)


class StatusRecorder:
    """Keeps one integration's status while its runners work; all writes are statistics."""

    def __init__(
        self,
        store: StatusStore,
        integration: str,
        client: SalesforceClient,
        clock: Clock,
        *,
        recheck: float = RECHECK.total_seconds(),
    ) -> None:
        self.store = store
        self.integration = integration
        self.client = client
        self.clock = clock
        self.recheck = timedelta(seconds=recheck)
        self._calls_recorded = client.usage.calls
        self._seen: dict[str, _Seen] = {}
        self._pending: dict[str, Counts] = {}
        self.guard: BudgetGuard | None = None

    async def install_budget(self) -> BudgetGuard:
        """Put the integration's API budget in front of every call of the client."""
        status = await self.store.status(self.integration)
        spent = await self.store.calls_on(self.integration, self.clock.now().date())
        usage = self.client.usage
        self.guard = BudgetGuard(
            self.clock,
            share=status.api_share,
            calls=lambda: usage.calls,
            usage=lambda: (usage.used, usage.limit),
            spent_before=spent + usage.calls - self._calls_recorded,
            recheck=self.recheck,
        )
        self.client.guard = self.guard
        return self.guard

    async def gate(self) -> Gate:
        """Whether a pass may run; once a limit's time is up, one read of /limits decides."""
        decision = gate(await self.store.status(self.integration), self.clock.now())
        if decision.action != "probe":
            return decision
        guard = self.guard or await self.install_budget()
        try:
            with guard.probing():
                limits = await self.client.limits()
            daily = limits.get("DailyApiRequests") or {}
            if "Max" in daily and "Remaining" in daily:
                self.client.usage.limit = int(daily["Max"])
                self.client.usage.used = int(daily["Max"]) - int(daily["Remaining"])
            until = guard.until()
            reason = "the API budget is still spent"
        except ApiLimitReachedError as error:
            until, reason = self.clock.now() + self.recheck, error.message
        finally:
            await self.flush()
        if until is None:
            await self.succeeded("the API allowance is available again")
            return Gate("run")
        await self.failed(ApiLimitReachedError(reason, until=until))
        return Gate("wait", reason, until)

    async def run_step(
        self,
        sobject: str,
        runner: InboundRunner,
        progress: Callable[[int, int], Any] | None = None,
        *,
        report: InboundReport | None = None,
    ) -> InboundReport:
        """One polling pass of a step (named ``sobject``, or the step's own name), recorded even
        when it stops on an error. A ``report`` given by the caller fills up as batches go."""
        report = report if report is not None else InboundReport()
        try:
            await runner.run_once(progress, report=report)
        except PeopleSyncError as error:
            await self._record(sobject, runner, report, error)
            raise
        await self._record(sobject, runner, report, None)
        return report

    async def _record(
        self,
        sobject: str,
        runner: InboundRunner,
        report: InboundReport,
        error: PeopleSyncError | None,
    ) -> None:
        now = self.clock.now()
        await self.store.add_counts(self.integration, now.date(), sobject, report_counts(report))
        await self.flush()
        # The report's error entries were written with the batches that met them.
        await self.store.clear_resolved(
            self.integration, sobject, runner.step.system, runner.step.sobject
        )
        detail = (
            f"read {report.read}, created {report.created}, updated {report.updated}, "
            f"deleted {report.deleted}, unlinked {report.unlinked}, merged {report.merged}, "
            f"rejected {len(report.rejected)}, warnings "
            f"{len(report.warnings) + len(report.duplicates)}"
        )
        if error is None:
            await self.store.mark_synced(self.integration, sobject, now)
            outcome = "partial" if report.rejected else "ok"
        else:
            outcome, detail = "failed", f"{detail}; stopped: {error}"
        await self.store.log(
            self.integration,
            "poll",
            object=sobject,
            records=report.read,
            outcome=outcome,
            detail=detail,
        )

    async def run_push(
        self, runner: OutboundRunner, *, retry_failed: bool = False
    ) -> OutboundReport:
        """One push pass, recorded per outbound step even when it stops on an error: counters,
        errors by code (a person's cleared once it pushes fine), the log, the last sync."""
        report = OutboundReport()
        try:
            await runner.run_once(retry_failed=retry_failed, report=report)
        except PeopleSyncError as error:
            await self._record_push(runner, report, error)
            raise
        await self._record_push(runner, report, None)
        return report

    async def _record_push(
        self, runner: OutboundRunner, report: OutboundReport, error: PeopleSyncError | None
    ) -> None:
        now = self.clock.now()
        for name, counts in report.steps.items():
            await self.store.add_counts(self.integration, now.date(), name, counts)
        await self.flush()
        for name, errors in report.step_errors.items():
            problems = [error_problem(e) for e in errors]
            problems += [
                warning_problem("DUPLICATE_EMAIL_IN_SALESFORCE", d)
                for d in report.step_duplicates.get(name, [])
            ]
            await self.store.record_problems(self.integration, name, problems)
        for step in runner.steps.values():
            conflicts = [c for c in report.conflicts if c.record.startswith(f"{step.sobject} ")]
            if conflicts:
                found = [conflict_problem(c) for c in conflicts]
                await self.store.record_problems(self.integration, step.label, found)
        failed_now = {e.record for e in report.errors}
        await self.store.clear_records(
            self.integration,
            [f"person {p}" for p in report.clean if f"person {p}" not in failed_now],
        )
        if error is None:
            for step in runner.steps.values():
                await self.store.mark_synced(self.integration, step.label, now)
        if error is None and not (report.changes or report.persons or report.errors):
            return  # an idle pass of --follow leaves no log line
        detail = (
            f"changes {report.changes}, persons {report.persons}: created {report.created}, "
            f"updated {report.updated}, deleted {report.deleted}, linked {report.linked}, "
            f"rejected {len(report.errors)}"
        )
        outcome = "partial" if report.errors else "ok"
        if error is not None:
            outcome, detail = "failed", f"{detail}; stopped: {error}"
        await self.store.log(
            self.integration,
            "push",
            object=", ".join(step.label for step in runner.steps.values()),
            records=report.persons,
            outcome=outcome,
            detail=detail,
        )

    def note_stream(self, sobject: str, report: InboundReport) -> None:
        """Called after every change-event batch with the stream's running report; its new
        counts are written at the next :meth:`flush` (its error entries were written with
        the batch)."""
        seen = self._seen.get(sobject)
        if seen is None or seen.report != id(report):
            seen = self._seen[sobject] = _Seen(id(report))
        counts = report_counts(report)
        self._pending[sobject] = self._pending.get(sobject, Counts()) + (counts - seen.counts)
        seen.counts = counts

    async def flush(self) -> None:
        """Write the API calls and stream results not recorded yet."""
        day = self.clock.now().date()
        calls = self.client.usage.calls
        await self.store.add_counts(
            self.integration, day, API_STEP, Counts(api_calls=calls - self._calls_recorded)
        )
        self._calls_recorded = calls
        pending, self._pending = self._pending, {}
        for sobject, counts in pending.items():
            await self.store.add_counts(self.integration, day, sobject, counts)
            if not counts.empty:
                await self.store.log(
                    self.integration,
                    "stream",
                    object=sobject,
                    records=counts.created + counts.updated + counts.deleted + counts.rejected,
                    outcome="partial" if counts.rejected else "ok",
                    detail=(
                        f"created {counts.created}, updated {counts.updated}, "
                        f"deleted {counts.deleted}, rejected {counts.rejected}"
                    ),
                )

    async def succeeded(self, detail: str = "") -> None:
        """A pass went through: leave a limit or error state (never a pause)."""
        now = self.clock.now()
        before = await self.store.status(self.integration)
        after = await self.store.transition(self.integration, lambda s: succeeded(s, now))
        if after.state is not before.state:
            await self.store.log(
                self.integration, after.state.value, detail=detail or f"was {before.state}"
            )

    async def failed(self, error: PeopleSyncError) -> None:
        """A pass stopped on ``error``: record the new state and log it."""
        now = self.clock.now()
        await self.flush()
        before = await self.store.status(self.integration)
        after = await self.store.transition(
            self.integration, lambda s: failed(s, error, now, recheck=self.recheck)
        )
        if after.state is before.state and after.state is State.API_LIMIT_REACHED:
            return  # still waiting for the allowance: one log line per limit is enough
        until = f" until {after.until.isoformat(timespec='seconds')}" if after.until else ""
        await self.store.log(
            self.integration,
            after.state.value,
            outcome="failed",
            detail=f"{getattr(error, 'error_code', '') or type(error).__name__}: "
            f"{error.message}{until}",
        )
