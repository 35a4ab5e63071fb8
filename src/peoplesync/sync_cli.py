"""CLI: ``peoplesync sync run``: inbound passes, once or following changes in real time."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from peoplesync.clock import SystemClock
from peoplesync.errors import PeopleSyncError, RetryableError, StopError
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.people.store import PeopleStore
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.salesforce.failure import (
    ApiLimitReachedError,
    ReconnectNeededError,
    SalesforceUnavailableError,
)
from peoplesync.salesforce.streaming import NEW_EVENTS
from peoplesync.settings import Settings
from peoplesync.sync.inbound import InboundRunner
from peoplesync.sync.inbound_report import InboundReport
from peoplesync.sync.profile_store import load_profile
from peoplesync.sync.schedule_keeper import ScheduleKeeper
from peoplesync.sync.status import RECHECK
from peoplesync.sync.status_recorder import StatusRecorder
from peoplesync.sync_session import (
    connected_client,
    inbound_pass,
    profile_runners,
)
from peoplesync.wiring import people_store, status_store

sync_app = typer.Typer(help="Run synchronisation.", no_args_is_help=True)
console = Console(stderr=True)
EXIT_REFUSED = 3  # paused by a person, or the org must be connected again
EXIT_API_LIMIT = 4  # the API budget or the org's allowance is spent
# While following, what the change streams did reaches the status within this many seconds.
FLUSH_EVERY = 2.0


async def stream_changes(
    runners: dict[str, InboundRunner],
    on_batch: Callable[[str, InboundReport], Any] | None = None,
) -> None:
    """Apply Change Data Capture events for every step until cancelled.

    Polling keeps running beside it as the safety net; an org without CDC (or a replay id
    that left the retention window) falls back to polling alone. ``on_batch`` hears each
    step's running report after every batch of events.
    """

    async def follow(sobject: str, runner: InboundRunner) -> None:
        delay = 1.0

        def heard(report: InboundReport) -> bool:
            if on_batch is not None:
                on_batch(sobject, report)
            return False

        while True:
            try:
                await runner.follow_changes(stop=heard)
            except SalesforceUnavailableError as error:
                if error.error_code == "REPLAY_GAP":
                    # Events were lost to the retention window; polling reads what changed,
                    # the stream starts again from new events.
                    await runner.store.set_state(runner.step.stream_key, {"replay_id": NEW_EVENTS})
                    continue
                if error.error_code == "STREAMING":
                    console.print(
                        f"[yellow]{sobject} change stream unavailable ({error}); "
                        "polling continues[/yellow]"
                    )
                    return
                console.print(f"[yellow]{sobject} change stream: {error}; retrying[/yellow]")
            except PeopleSyncError as error:
                if isinstance(error, StopError):
                    raise
                console.print(f"[yellow]{sobject} change stream: {error}; retrying[/yellow]")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)

    await asyncio.gather(*(follow(sobject, runner) for sobject, runner in runners.items()))


def report_stop(
    code: int, state: str, reason: str, until: datetime | None, *, as_json: bool
) -> int:
    """Say why a run stops (on stderr, and as JSON with --json); returns the exit code."""
    when = f" until {until.isoformat(timespec='seconds')}" if until else ""
    console.print(f"[red]{state}{when}:[/red] {reason}")
    if as_json:
        payload = {"state": state, "reason": reason, "until": until.isoformat() if until else None}
        typer.echo(json.dumps(payload))
    return code


StopReport = Callable[..., int]


async def inbound_passes(
    settings: Settings,
    store: SqlPeopleStore,
    name: str,
    *,
    follow: bool,
    stream: bool = True,
    interval: float = 60.0,
    reconcile_every: float | None = None,
    recheck: float = RECHECK.total_seconds(),
    on_summary: Callable[[dict[str, Any]], Any],
    stop: StopReport,
    progress: bool = False,
    on_stream: Callable[[str, InboundReport], Any] | None = None,
    started_by: str = "sync run",
    flush_every: float = FLUSH_EVERY,
) -> int:
    """The inbound loop of ``sync run`` (and of ``serve``'s worker): passes of the profile's
    enabled steps through the status gate, once or (``follow``) until cancelled with the
    change streams beside them (``on_stream`` hears each batch of change events; what they
    did reaches the status within ``flush_every`` seconds). Following, each cycle runs the
    steps their schedules make due (``sync.schedule``; ``reconcile_every`` overrides real-time
    steps' poll while streaming) and looks again within ``interval`` seconds. A step's first
    pass is kept in the transfer history, started by ``started_by``. Returns an exit code;
    ``stop(code, state, reason, until)`` says why a run ends early."""
    async with connected_client(settings, store, name) as client:
        profile = await load_profile(store, name)
        runners = profile_runners(client, store, profile, name)
        clock = SystemClock()
        recorder = StatusRecorder(status_store(store), name, client, clock, recheck=recheck)
        await recorder.install_budget()
        streams: asyncio.Task[None] | None = None
        streams_gave_up = False  # the org has no change streams: polling alone
        schedules = ScheduleKeeper(store, recorder.store, name, clock)
        streamed: frozenset[str] = frozenset()
        try:
            while True:
                if streams is not None and streams.done():
                    streams_gave_up = not streams.cancelled() and streams.exception() is None
                    await _reap(streams, recorder)
                    streams = None
                decision = await recorder.gate()
                if decision.action == "refuse":
                    return stop(EXIT_REFUSED, "refused", decision.reason)
                if decision.action == "wait":
                    await _cancel(streams)
                    streams = None
                    if not follow:
                        return stop(
                            EXIT_API_LIMIT, "api_limit_reached", decision.reason, decision.until
                        )
                    left = (decision.until or clock.now()) - clock.now()
                    await asyncio.sleep(max(0.05, min(left.total_seconds(), interval)))
                    continue
                streaming = follow and stream and not streams_gave_up
                due = await schedules.due(
                    realtime_every=_poll(streaming, interval, reconcile_every)
                )
                chosen = {k: r for k, r in runners.items() if not follow or k in due.now}
                if streams is not None and streamed != due.realtime & runners.keys():
                    await _cancel(streams)  # a step's schedule changed to or from real time
                    streams = None
                if streaming and streams is None and due.realtime & runners.keys():
                    heard: Callable[[str, InboundReport], Any] = recorder.note_stream
                    if on_stream is not None:
                        heard = _both(recorder.note_stream, on_stream)
                    streamed = due.realtime & runners.keys()
                    live = {k: r for k, r in runners.items() if k in streamed}
                    streams = asyncio.create_task(stream_changes(live, heard))
                if not chosen:
                    wait = due.wait(clock.now(), interval)
                    await _wait_for_next_poll(streams, wait, wait, recorder, flush_every)
                    continue
                try:
                    if progress:
                        summary = await pass_with_progress(
                            client, store, chosen, recorder, started_by=started_by
                        )
                    else:
                        summary = await inbound_pass(
                            client, store, chosen, None, recorder, started_by=started_by
                        )
                except PeopleSyncError as error:
                    await recorder.failed(error)
                    if follow and isinstance(error, ApiLimitReachedError | RetryableError):
                        console.print(f"[yellow]{error}[/yellow]")
                        if isinstance(error, RetryableError):
                            await asyncio.sleep(interval)
                        continue
                    if isinstance(error, ApiLimitReachedError):
                        return stop(EXIT_API_LIMIT, "api_limit_reached", error.message, error.until)
                    if isinstance(error, ReconnectNeededError):
                        return stop(EXIT_REFUSED, "reconnect_needed", str(error))
                    raise
                await recorder.succeeded()
                on_summary(summary)
                if not follow:
                    return 0
        finally:
            await _cancel(streams)
            await recorder.flush()


@sync_app.command("run")
def run_sync(
    name: str = "default",
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            help="Keep syncing until stopped: real time (Change Data Capture) with a "
            "reconciliation poll, or polling alone with --no-stream",
        ),
    ] = False,
    stream: Annotated[
        bool,
        typer.Option(
            help="With --follow, receive changes in real time through Change Data Capture"
        ),
    ] = True,
    interval: Annotated[
        float, typer.Option(help="Seconds between polls with --follow when not streaming")
    ] = 60.0,
    reconcile_every: Annotated[
        float | None,
        typer.Option(
            help="Seconds between safety-net polls while the change streams are up "
            "(default: each real-time step's schedule, 15 minutes unless set)"
        ),
    ] = None,
    recheck: Annotated[
        float, typer.Option(help="Seconds between reads of the org's allowance once it is spent")
    ] = RECHECK.total_seconds(),
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")] = False,
) -> None:
    """Run the profile's enabled steps: Salesforce changes into People (once, or --follow).

    Exits with 3 when the integration is paused or must be connected again, and with 4 when
    the API budget is spent (--follow waits for the allowance instead).
    """
    settings = Settings()

    def stop(code: int, state: str, reason: str, until: datetime | None = None) -> int:
        return report_stop(code, state, reason, until, as_json=as_json)

    async def passes() -> int:
        async with people_store(settings) as store:
            return await inbound_passes(
                settings,
                store,
                name,
                follow=follow,
                stream=stream,
                interval=interval,
                reconcile_every=reconcile_every,
                recheck=recheck,
                on_summary=(lambda s: typer.echo(json.dumps(s))) if as_json else print_summary,
                stop=stop,
                progress=not as_json,
            )

    try:
        code = asyncio.run(passes())
    except PeopleSyncError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print("stopped")
        return
    if code:
        raise typer.Exit(code)


def _poll(streaming: bool, interval: float, reconcile_every: float | None) -> timedelta | None:
    """How often real-time steps poll: ``interval`` without streams, else ``reconcile_every``
    (None: their schedule's period)."""
    if not streaming:
        return timedelta(seconds=interval)
    return None if reconcile_every is None else timedelta(seconds=reconcile_every)


def _both(
    first: Callable[[str, InboundReport], Any], second: Callable[[str, InboundReport], Any]
) -> Callable[[str, InboundReport], None]:
    def hear(step: str, report: InboundReport) -> None:
        first(step, report)
        second(step, report)

    return hear


async def _cancel(task: asyncio.Task[None] | None) -> None:
    """Stop a background task and wait for it to end."""
    if task is None or task.done():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _reap(streams: asyncio.Task[None], recorder: StatusRecorder) -> None:
    """Record why the change streams ended (a stop such as the API budget being spent)."""
    if streams.cancelled():
        return
    error = streams.exception()
    if isinstance(error, PeopleSyncError):
        await recorder.failed(error)
    elif error is not None:
        raise error


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


async def pass_with_progress(
    client: SalesforceClient,
    store: PeopleStore,
    runners: dict[str, InboundRunner],
    recorder: StatusRecorder | None,
    *,
    transfer: str | None = None,
    started_by: str = "sync run",
) -> dict[str, Any]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def show(step_name: str, done: int, total: int) -> None:
            if step_name not in tasks:
                tasks[step_name] = bar.add_task(step_name, total=total)
            bar.update(tasks[step_name], completed=done, total=total)

        return await inbound_pass(
            client, store, runners, show, recorder, transfer=transfer, started_by=started_by
        )


def print_summary(summary: dict[str, Any]) -> None:
    for step_name, part in summary.items():
        if not isinstance(part, dict):
            continue
        console.print(
            f"{step_name}: read {part['read']}, created {part['created']}, "
            f"updated {part['updated']}, unchanged {part['skipped']}, rejected {part['rejected']}"
        )
    calls = summary["api_calls"]
    console.print(
        f"People now holds {summary['persons']} persons and {summary['companies']} companies "
        f"({calls} Salesforce API calls)"
    )
