"""An integration's Salesforce client and inbound runners, and one polling pass of its
steps: shared by the command line, ``serve``'s workers and the web app's transfers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from peoplesync.clock import SystemClock
from peoplesync.errors import PeopleSyncError
from peoplesync.people.store import PeopleStore
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.secret_box import SecretBox
from peoplesync.settings import Settings
from peoplesync.sync.company_inbound import CompanyRunner
from peoplesync.sync.inbound import InboundRunner
from peoplesync.sync.inbound_report import InboundReport
from peoplesync.sync.mapping import Direction
from peoplesync.sync.org_client import open_client
from peoplesync.sync.profile import Profile, Target
from peoplesync.sync.profile_store import load_profile
from peoplesync.sync.status_recorder import StatusRecorder
from peoplesync.sync.transfer_history import finished_job, keep_in_history
from peoplesync.sync.transfer_jobs import TransferJobStore
from peoplesync.wiring import people_store

ProgressCallback = Callable[[str, int, int], Any]


def for_object(progress: ProgressCallback | None, sobject: str) -> Callable[[int, int], Any] | None:
    if progress is None:
        return None
    return lambda done, total: progress(sobject, done, total)


def connected_client(
    settings: Settings, store: PeopleStore, name: str = "default"
) -> AbstractAsyncContextManager[SalesforceClient]:
    """A client for the stored integration ``name`` (its HTTP connections closed on exit)."""
    return open_client(SecretBox.from_data_dir(settings.data_dir, settings.secret_key), store, name)


def profile_runners(
    client: SalesforceClient, store: PeopleStore, profile: Profile, name: str = "default"
) -> dict[str, InboundRunner]:
    """One runner per enabled inbound step, by step name: company steps first (so persons
    find their companies), then person steps, each group in profile order."""
    clock = SystemClock()
    enabled = [s for s in profile.steps if s.enabled and s.direction is Direction.INBOUND]
    runners: dict[str, InboundRunner] = {}
    for step in sorted(enabled, key=lambda s: s.target is not Target.COMPANY):
        kind = CompanyRunner if step.target is Target.COMPANY else InboundRunner
        runners[step.name] = kind(client, store, step.inbound_step(name), clock)
    return runners


@asynccontextmanager
async def connected_runners(
    settings: Settings, name: str = "default"
) -> AsyncIterator[tuple[SalesforceClient, PeopleStore, dict[str, InboundRunner]]]:
    """The integration's client, the People store and the runners of its profile's steps."""
    async with people_store(settings) as store, connected_client(settings, store, name) as client:
        profile = await load_profile(store, name)
        yield client, store, profile_runners(client, store, profile, name)


def report_summary(report: InboundReport) -> dict[str, Any]:
    return {
        "read": report.read,
        "created": report.created,
        "updated": report.updated,
        "skipped": report.skipped,
        "rejected": len(report.rejected),
        "warnings": len(report.warnings),
        "duplicates": len(report.duplicates),
        "conflicts": [c.to_json() for c in report.conflicts[:50]],
        "deleted": report.deleted,
        "unlinked": report.unlinked,
        "merged": report.merged,
        "errors": [
            {"record": e.record, "field": e.field, "error": e.detail} for e in report.rejected[:20]
        ],
    } | ({"samples": report.samples} if report.samples else {})


async def inbound_pass(
    client: SalesforceClient,
    store: PeopleStore,
    runners: dict[str, InboundRunner],
    progress: ProgressCallback | None = None,
    recorder: StatusRecorder | None = None,
    *,
    transfer: str | None = None,
    started_by: str = "sync run",
) -> dict[str, Any]:
    """One polling pass of every step. With a recorder, it is recorded in the status, and
    kept in the transfer history as a ``transfer`` (its kind) when it is one, or else where
    it is the first pass of some step (an initial transfer, ``started_by`` someone)."""
    summary: dict[str, Any] = {}
    if recorder is None:
        for step_name, runner in runners.items():
            report = await runner.run_once(for_object(progress, step_name))
            summary[step_name] = report_summary(report)
    else:
        await _recorded_pass(recorder, runners, progress, summary, transfer, started_by)
    summary["api_calls"] = client.usage.calls
    summary["persons"] = await store.count_persons()
    summary["companies"] = await store.count_companies()
    return summary


async def _recorded_pass(
    recorder: StatusRecorder,
    runners: dict[str, InboundRunner],
    progress: ProgressCallback | None,
    summary: dict[str, Any],
    transfer: str | None,
    started_by: str,
) -> None:
    synced = await recorder.store.last_sync(recorder.integration)
    first = set(runners) if transfer is not None else set(runners) - set(synced)
    started = recorder.clock.now()
    reports: dict[str, InboundReport] = {}
    done: set[str] = set()

    async def keep(error: str = "") -> None:
        if not reports:
            return
        job = finished_job(
            recorder.integration,
            transfer or "transfer",
            started_by,
            started,
            reports,
            done=done,
            now=recorder.clock.now(),
            error=error,
        )
        await keep_in_history(TransferJobStore(recorder.store.engine, recorder.clock), job)

    for step_name, runner in runners.items():
        report = InboundReport()
        if step_name in first:
            reports[step_name] = report
        try:
            await recorder.run_step(
                step_name, runner, for_object(progress, step_name), report=report
            )
        except PeopleSyncError as error:
            await keep(f"{step_name}: {error}")
            raise
        done.add(step_name)
        summary[step_name] = report_summary(report)
    await keep()


__all__ = [
    "ProgressCallback",
    "connected_client",
    "connected_runners",
    "for_object",
    "inbound_pass",
    "profile_runners",
    "report_summary",
]
