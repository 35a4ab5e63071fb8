"""CLI: push People changes to Salesforce (the profile's outbound steps)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console

from peoplesync.clock import SystemClock
from peoplesync.errors import PeopleSyncError, RetryableError
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.salesforce.failure import ApiLimitReachedError, ReconnectNeededError
from peoplesync.settings import Settings
from peoplesync.sync.connection import review_hint
from peoplesync.sync.mapping import Direction
from peoplesync.sync.outbound import OutboundReport, OutboundRunner
from peoplesync.sync.outbound_preview import PreviewClient, preview_summary
from peoplesync.sync.profile_store import load_profile
from peoplesync.sync.schedule_keeper import ScheduleKeeper
from peoplesync.sync.status import RECHECK
from peoplesync.sync.status_recorder import StatusRecorder
from peoplesync.sync_cli import EXIT_API_LIMIT, EXIT_REFUSED, report_stop
from peoplesync.sync_session import connected_client
from peoplesync.wiring import people_store, status_store

push_app = typer.Typer(help="Push People changes to Salesforce.", no_args_is_help=True)
console = Console(stderr=True)


def _print(report: OutboundReport, calls: int) -> None:
    console.print(
        f"changes {report.changes} ({report.skipped} skipped), persons {report.persons}: "
        f"created {report.created}, linked by email {report.linked}, updated {report.updated}, "
        f"deleted {report.deleted} (links forgotten {report.forgotten}), "
        f"unchanged {report.unchanged}, errors {len(report.errors)} "
        f"({report.retrying} to retry) - {calls} Salesforce API calls"
    )
    for error in report.errors[:20]:
        console.print(f"  [red]{error.code}[/red] {error}")
    for warning in report.duplicates[:20]:
        console.print(f"  [yellow]{warning}[/yellow]")
    for conflict in report.conflicts[:20]:
        console.print(f"  [yellow]conflict[/yellow] {conflict.describe()}")


def _print_preview(summary: dict[str, Any]) -> None:
    console.print(
        f"preview of {summary['changes']} change(s), {summary['persons']} person(s): would "
        f"create {summary['would_create']}, update {summary['would_update']}, delete "
        f"{summary['would_delete']}, link by email {summary['would_link_by_email']}, reject "
        f"{summary['would_reject']}; nothing was written ({summary['api_calls']} lookups)"
    )
    for kind, samples in summary["samples"].items():
        for sample in samples:
            console.print(f"  {kind}: {json.dumps(sample, default=str)}")


async def push_passes(
    store: SqlPeopleStore,
    client: SalesforceClient,
    name: str,
    *,
    follow: bool,
    interval: float = 2.0,
    retry_failed: bool = False,
    recheck: float = RECHECK.total_seconds(),
    on_report: Callable[[OutboundReport, int], Any],
    stop: Callable[..., int],
) -> int:
    """The push loop of ``push run`` (and of ``serve``'s worker): passes of the profile's
    enabled outbound steps through the status gate, once or (``follow``) until cancelled,
    following, when their shared schedule makes them due (``sync.schedule``).
    Returns an exit code (0 without outbound steps); ``stop(code, state, reason, until)`` says
    why a run ends early."""
    steps = (await load_profile(store, name)).outbound_steps()
    if not steps:
        return 0
    clock = SystemClock()
    runner = OutboundRunner(client, store, steps, clock, integration=name)
    recorder = StatusRecorder(status_store(store), name, client, clock, recheck=recheck)
    await recorder.install_budget()
    first = True
    schedules = ScheduleKeeper(store, recorder.store, name, clock, Direction.OUTBOUND)
    try:
        while True:
            due = await schedules.due(realtime_every=timedelta(0)) if follow else None
            if due is not None and not due.now:  # the push schedule says not yet
                await asyncio.sleep(due.wait(clock.now(), interval))
                continue
            decision = await recorder.gate()
            if decision.action == "refuse":
                return stop(EXIT_REFUSED, "refused", decision.reason)
            if decision.action == "wait":
                if not follow:
                    return stop(
                        EXIT_API_LIMIT, "api_limit_reached", decision.reason, decision.until
                    )
                left = (decision.until or clock.now()) - clock.now()
                await asyncio.sleep(max(0.05, min(left.total_seconds(), interval)))
                continue
            try:
                report = await recorder.run_push(runner, retry_failed=retry_failed and first)
            except PeopleSyncError as error:
                await recorder.failed(error)
                if follow and isinstance(error, ApiLimitReachedError | RetryableError):
                    console.print(f"[yellow]{error}; retrying[/yellow]")
                    await asyncio.sleep(interval)
                    continue
                if isinstance(error, ApiLimitReachedError):
                    return stop(EXIT_API_LIMIT, "api_limit_reached", error.message, error.until)
                if isinstance(error, ReconnectNeededError):
                    return stop(EXIT_REFUSED, "reconnect_needed", str(error))
                raise
            await recorder.succeeded()
            first = False
            on_report(report, client.usage.calls)
            if not follow:
                return 0
            await asyncio.sleep(interval)
    finally:
        await recorder.flush()


@push_app.command("run")
def push_run(
    name: Annotated[str, typer.Option("--name", help="The integration")] = "default",
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep pushing new changes until stopped")
    ] = False,
    interval: Annotated[float, typer.Option(help="Seconds between passes with --follow")] = 2.0,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Retry failed persons now, not at their time")
    ] = False,
    preview: Annotated[
        bool,
        typer.Option(
            "--preview",
            help="Dry run: counts and samples of what would be created, updated, deleted and "
            "rejected; looks records up but writes nothing",
        ),
    ] = False,
    recheck: Annotated[
        float, typer.Option(help="Seconds between reads of the org's allowance once it is spent")
    ] = RECHECK.total_seconds(),
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")] = False,
) -> None:
    """Push People changes through the profile's enabled outbound steps: new persons become
    Leads, linked Leads and Contacts get the changed fields, deletes follow the step switches
    (once, or --follow).

    Exits with 3 when the integration is paused or must be connected again, and with 4 when
    the API budget is spent (--follow waits for the allowance instead).
    """
    settings = Settings()

    def stop(code: int, state: str, reason: str, until: datetime | None = None) -> int:
        return report_stop(code, state, reason, until, as_json=as_json)

    def on_report(report: OutboundReport, calls: int) -> None:
        if as_json:
            typer.echo(json.dumps({**report.summary(), "api_calls": calls}))
        else:
            _print(report, calls)

    async def passes() -> int:
        async with (
            people_store(settings) as store,
            connected_client(settings, store, name) as client,
        ):
            profile = await load_profile(store, name)
            steps = profile.outbound_steps(preview=preview)
            held = profile.awaiting_review()
            if not steps and held:
                return stop(
                    EXIT_REFUSED,
                    "awaiting_review",
                    f"nothing pushed: the outbound steps ({', '.join(held)}) are off until "
                    f"reviewed; {review_hint(name, held)}",
                )
            if not steps:
                # Running without steps would move past changes nobody pushed.
                console.print(
                    "[yellow]the profile has no enabled outbound steps; nothing pushed[/yellow] "
                    "(peoplesync steps add --object Lead --direction outbound)"
                )
                return 0
            clock = SystemClock()
            if preview:
                dry = PreviewClient(client)
                runner = OutboundRunner(dry, store, steps, clock, integration=name, dry_run=True)
                report = await runner.run_once()
                shown = preview_summary(report, dry)
                if as_json:
                    typer.echo(json.dumps(shown, default=str))
                else:
                    _print_preview(shown)
                return 0
            return await push_passes(
                store,
                client,
                name,
                follow=follow,
                interval=interval,
                retry_failed=retry_failed,
                recheck=recheck,
                on_report=on_report,
                stop=stop,
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
