"""CLI: connect a Salesforce org and run inbound sync."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
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
from peoplesync.errors import PeopleSyncError, StopError
from peoplesync.people.store import PeopleStore
from peoplesync.salesforce.auth import Authenticator
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.salesforce.failure import SalesforceUnavailableError
from peoplesync.salesforce.streaming import NEW_EVENTS
from peoplesync.secret_box import SecretBox
from peoplesync.settings import Settings
from peoplesync.sync.company_inbound import CompanyRunner
from peoplesync.sync.inbound import InboundReport, InboundRunner
from peoplesync.sync.integration import Integration, load_integration, save_integration
from peoplesync.sync.mapping import Direction
from peoplesync.sync.profile import Profile, Target
from peoplesync.sync.profile_store import load_profile
from peoplesync.wiring import people_store

salesforce_app = typer.Typer(help="Salesforce integrations.", no_args_is_help=True)
sync_app = typer.Typer(help="Run synchronisation.", no_args_is_help=True)
console = Console(stderr=True)


@salesforce_app.command("connect")
def connect(
    login_url: Annotated[
        str, typer.Option(help="https://login.salesforce.com, a My Domain, or the sandbox org")
    ],
    client_id: Annotated[str, typer.Option(help="Connected app consumer key")],
    client_secret: Annotated[
        str,
        typer.Option(
            envvar="PEOPLESYNC_SF_CLIENT_SECRET",
            help="Consumer secret (or env PEOPLESYNC_SF_CLIENT_SECRET)",
            show_default=False,
        ),
    ],
    username: Annotated[str | None, typer.Option(help="Integration user (password flow)")] = None,
    password: Annotated[
        str | None,
        typer.Option(
            envvar="PEOPLESYNC_SF_PASSWORD",
            help="Password + security token (or env PEOPLESYNC_SF_PASSWORD)",
            show_default=False,
        ),
    ] = None,
    ca_cert: Annotated[
        str | None, typer.Option(help="CA certificate to trust (for the sandbox org)")
    ] = None,
    name: str = "default",
) -> None:
    """Connect to an org headlessly, check the credentials, and store them encrypted."""
    integration = Integration(
        name, login_url, client_id, client_secret, username, password, ca_cert
    )

    async def run() -> dict[str, Any]:
        settings = Settings()
        async with httpx.AsyncClient(verify=ca_cert or True, timeout=60) as http:
            client = SalesforceClient(
                http, Authenticator(http, login_url, integration.credentials())
            )
            limits = await client.limits()
        async with people_store(settings) as store:
            await save_integration(
                store, SecretBox.from_data_dir(settings.data_dir, settings.secret_key), integration
            )
        return {"integration": name, "daily_api_requests": limits["DailyApiRequests"]}

    try:
        result = asyncio.run(run())
    except PeopleSyncError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    typer.echo(json.dumps(result))


ProgressCallback = Callable[[str, int, int], Any]


def _for_object(
    progress: ProgressCallback | None, sobject: str
) -> Callable[[int, int], Any] | None:
    if progress is None:
        return None
    return lambda done, total: progress(sobject, done, total)


@asynccontextmanager
async def connected_client(
    settings: Settings, store: PeopleStore, name: str = "default"
) -> AsyncIterator[SalesforceClient]:
    """A client for the stored integration ``name`` (its HTTP connections closed on exit)."""
    integration = await load_integration(
        store, SecretBox.from_data_dir(settings.data_dir, settings.secret_key), name
    )
    async with httpx.AsyncClient(verify=integration.ca_cert or True, timeout=180) as http:
        yield SalesforceClient(
            http, Authenticator(http, integration.login_url, integration.credentials())
        )


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


def _report_summary(report: InboundReport) -> dict[str, Any]:
    return {
        "read": report.read,
        "created": report.created,
        "updated": report.updated,
        "skipped": report.skipped,
        "rejected": len(report.rejected),
        "warnings": len(report.warnings),
        "duplicates": len(report.duplicates),
        "deleted": report.deleted,
        "unlinked": report.unlinked,
        "merged": report.merged,
        "errors": [
            {"record": e.record, "field": e.field, "error": e.detail} for e in report.rejected[:20]
        ],
    }


async def inbound_pass(
    client: SalesforceClient,
    store: PeopleStore,
    runners: dict[str, InboundRunner],
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """One polling pass of every step; returns a summary keyed by step name."""
    summary: dict[str, Any] = {}
    for step_name, runner in runners.items():
        report = await runner.run_once(_for_object(progress, step_name))
        summary[step_name] = _report_summary(report)
    summary["api_calls"] = client.usage.calls
    summary["persons"] = await store.count_persons()
    summary["companies"] = await store.count_companies()
    return summary


async def run_inbound(
    settings: Settings, name: str = "default", progress: ProgressCallback | None = None
) -> dict[str, Any]:
    """One inbound pass of the profile's enabled steps; returns a summary."""
    async with connected_runners(settings, name) as (client, store, runners):
        return await inbound_pass(client, store, runners, progress)


async def stream_changes(runners: dict[str, InboundRunner]) -> None:
    """Apply Change Data Capture events for every step until cancelled.

    Polling keeps running beside it as the safety net; an org without CDC (or a replay id
    that left the retention window) falls back to polling alone.
    """

    async def follow(sobject: str, runner: InboundRunner) -> None:
        delay = 1.0
        while True:
            try:
                await runner.follow_changes(stop=lambda _report: False)
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
        float,
        typer.Option(help="Seconds between safety-net polls while the change streams are up"),
    ] = 900.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")] = False,
) -> None:
    """Run the profile's enabled steps: Salesforce changes into People (once, or --follow)."""
    settings = Settings()

    async def passes() -> None:
        async with connected_runners(settings, name) as (client, store, runners):
            streams = asyncio.create_task(stream_changes(runners)) if follow and stream else None
            try:
                while True:
                    if as_json:
                        summary = await inbound_pass(client, store, runners)
                        typer.echo(json.dumps(summary))
                    else:
                        summary = await _pass_with_progress(client, store, runners)
                        _print_summary(summary)
                    if not follow:
                        return
                    await _wait_for_next_poll(streams, interval, reconcile_every)
            finally:
                if streams is not None:
                    streams.cancel()

    try:
        asyncio.run(passes())
    except PeopleSyncError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print("stopped")


async def _wait_for_next_poll(
    streams: asyncio.Task[None] | None, interval: float, reconcile_every: float
) -> None:
    """Sleep until the next poll: the reconciliation period while the streams run, the
    polling interval otherwise (and as soon as the streams give up)."""
    if streams is None or streams.done():
        await asyncio.sleep(interval)
        return
    await asyncio.wait({streams}, timeout=reconcile_every)
    if streams.done() and reconcile_every > interval:
        await asyncio.sleep(interval)


async def _pass_with_progress(
    client: SalesforceClient, store: PeopleStore, runners: dict[str, InboundRunner]
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

        return await inbound_pass(client, store, runners, show)


def _print_summary(summary: dict[str, Any]) -> None:
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
