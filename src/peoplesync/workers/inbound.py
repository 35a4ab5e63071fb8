"""Inbound work: one polling pass of an integration's steps and the gated loop of the passes
with the change streams beside them (``sync run``, ``serve``'s workers, the demo)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

from peoplesync.clock import SystemClock
from peoplesync.errors import PeopleSyncError
from peoplesync.people.store import PeopleStore
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.settings import Settings
from peoplesync.sync.inbound.report import InboundReport
from peoplesync.sync.inbound.runner import InboundRunner
from peoplesync.sync.profile.store import load_profile
from peoplesync.sync.status.recorder import StatusRecorder
from peoplesync.sync.status.schedule_keeper import ScheduleKeeper
from peoplesync.sync.status.state import RECHECK
from peoplesync.sync.status.store import StatusStore
from peoplesync.sync.transfer.history import finished_job, keep_in_history
from peoplesync.sync.transfer.jobs import TransferJobStore
from peoplesync.sync_session import connected_client, profile_runners
from peoplesync.workers.change_streams import stream_changes
from peoplesync.workers.events import EventSink, StreamBatch, ignore
from peoplesync.workers.loop import NOT_DUE, NotDue, run_gated
from peoplesync.workers.outcome import Failed, Finished, Gated

ProgressCallback = Callable[[str, int, int], Any]
# Opens a progress display for one pass; what it yields hears (step, done, total).
ProgressSink = Callable[[], AbstractContextManager[ProgressCallback]]
# While following, what the change streams did reaches the status within this many seconds.
FLUSH_EVERY = 2.0


def for_object(progress: ProgressCallback | None, sobject: str) -> Callable[[int, int], Any] | None:
    """``progress`` for one step."""
    if progress is None:
        return None
    return lambda done, total: progress(sobject, done, total)


def report_summary(report: InboundReport) -> dict[str, Any]:
    """A step's report as the CLI's JSON and the web show it."""
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


class _InboundBody:
    """The passes of one integration's inbound steps, with its change streams beside them
    while following."""

    def __init__(
        self,
        client: SalesforceClient,
        store: PeopleStore,
        runners: dict[str, InboundRunner],
        recorder: StatusRecorder,
        *,
        schedules: ScheduleKeeper | None,
        streaming: bool,
        interval: float,
        reconcile_every: float | None,
        flush_every: float,
        events: EventSink,
        progress: ProgressSink | None,
        started_by: str,
    ) -> None:
        self.client, self.store, self.runners, self.recorder = client, store, runners, recorder
        self.schedules = schedules  # following: run the steps their schedules make due
        self.streamed: frozenset[str] = frozenset()
        self.streaming = streaming
        self.interval, self.reconcile_every, self.flush_every = (
            interval,
            reconcile_every,
            flush_every,
        )
        self.events = events
        self.progress = progress
        self.started_by = started_by
        self.streams: asyncio.Task[None] | None = None
        self.streams_gave_up = False  # the org has no change streams: polling alone

    def _heard(self, step: str, report: InboundReport) -> None:
        self.recorder.note_stream(step, report)
        self.events(StreamBatch(step, report))

    async def run(self, first: bool) -> dict[str, Any] | NotDue:
        await self._reap()
        chosen = self.runners
        if self.schedules is not None:
            streaming = self.streaming and not self.streams_gave_up
            due = await self.schedules.due(
                realtime_every=_poll(streaming, self.interval, self.reconcile_every)
            )
            realtime = due.realtime & self.runners.keys()
            if self.streams is not None and self.streamed != realtime:
                await self.close()  # a step's schedule changed to or from real time
            if streaming and self.streams is None and realtime:
                self.streamed = realtime
                live = {k: r for k, r in self.runners.items() if k in realtime}
                self.streams = asyncio.create_task(stream_changes(live, self._heard, self.events))
            chosen = {k: r for k, r in self.runners.items() if k in due.now}
            if not chosen:
                wait = due.wait(self.recorder.clock.now(), self.interval)
                await _wait_for_next_poll(self.streams, wait, wait, self.recorder, self.flush_every)
                return NOT_DUE
        if self.progress is None:
            return await self._pass(chosen, None)
        with self.progress() as show:
            return await self._pass(chosen, show)

    async def _pass(
        self, chosen: dict[str, InboundRunner], show: ProgressCallback | None
    ) -> dict[str, Any]:
        return await inbound_pass(
            self.client, self.store, chosen, show, self.recorder, started_by=self.started_by
        )

    async def rest(self) -> None:
        """The next run waits for what its schedules make due."""
        await self._reap()

    async def hold(self) -> None:
        await self._reap()
        await self.close()

    async def close(self) -> None:
        await _cancel(self.streams)
        self.streams = None

    async def _reap(self) -> None:
        """Record why the change streams ended (a stop such as the API budget being spent)."""
        streams = self.streams
        if streams is None or not streams.done():
            return
        self.streams = None
        if streams.cancelled():
            return
        error = streams.exception()
        self.streams_gave_up = error is None
        if isinstance(error, PeopleSyncError):
            await self.recorder.failed(error)
        elif error is not None:
            raise error


async def inbound_passes(
    settings: Settings,
    store: PeopleStore,
    statuses: StatusStore,
    name: str,
    *,
    follow: bool,
    stream: bool = True,
    interval: float = 60.0,
    reconcile_every: float | None = None,
    recheck: float = RECHECK.total_seconds(),
    events: EventSink = ignore,
    progress: ProgressSink | None = None,
    started_by: str = "sync run",
    flush_every: float = FLUSH_EVERY,
) -> Finished | Gated | Failed:
    """Passes of the profile's enabled inbound steps through the gated loop, once or
    (``follow``) until cancelled with the change streams beside them (``events`` hears each
    pass and each batch of change events; what the streams did reaches the status within
    ``flush_every`` seconds). Following, each cycle runs the steps their schedules make due
    (``sync.schedule``; ``reconcile_every`` overrides real-time steps' poll while streaming)
    and looks again within ``interval`` seconds. A step's first pass is kept in the transfer
    history, started by ``started_by``."""
    async with connected_client(settings, store, name) as client:
        profile = await load_profile(store, name)
        runners = profile_runners(client, store, profile, name)
        clock = SystemClock()
        recorder = StatusRecorder(statuses, name, client, clock, recheck=recheck)
        await recorder.install_budget()
        body = _InboundBody(
            client,
            store,
            runners,
            recorder,
            schedules=ScheduleKeeper(store, recorder.store, name, clock) if follow else None,
            streaming=follow and stream,
            interval=interval,
            reconcile_every=reconcile_every,
            flush_every=flush_every,
            events=events,
            progress=progress,
            started_by=started_by,
        )
        try:
            return await run_gated(
                body, recorder, clock, follow=follow, interval=interval, events=events
            )
        finally:
            await body.close()
            await recorder.flush()


def _poll(streaming: bool, interval: float, reconcile_every: float | None) -> timedelta | None:
    """How often real-time steps poll: ``interval`` without streams, else ``reconcile_every``
    (None: their schedule's period)."""
    if not streaming:
        return timedelta(seconds=interval)
    return None if reconcile_every is None else timedelta(seconds=reconcile_every)


async def _cancel(task: asyncio.Task[None] | None) -> None:
    """Stop a background task and wait for it to end."""
    if task is None or task.done():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _wait_for_next_poll(
    streams: asyncio.Task[None] | None,
    interval: float,
    reconcile_every: float,
    recorder: StatusRecorder,
    flush_every: float,
) -> None:
    """Sleep until the next poll: the reconciliation period while the streams run, the
    polling interval otherwise (and as soon as the streams give up). Meanwhile what the
    streams did is written to the status every ``flush_every`` seconds."""
    if streams is None or streams.done():
        await asyncio.sleep(interval)
        return
    clock = asyncio.get_running_loop().time
    deadline = clock() + reconcile_every
    while not streams.done() and clock() < deadline:
        await asyncio.wait({streams}, timeout=min(flush_every, max(0.0, deadline - clock())))
        await recorder.flush()
    if streams.done() and reconcile_every > interval:
        await asyncio.sleep(interval)


__all__ = [
    "FLUSH_EVERY",
    "ProgressCallback",
    "ProgressSink",
    "for_object",
    "inbound_pass",
    "inbound_passes",
    "report_summary",
]
