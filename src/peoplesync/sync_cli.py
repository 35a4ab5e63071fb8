"""CLI: connect a Salesforce org and run inbound sync."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
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
from peoplesync.errors import ConfigurationError, PeopleSyncError, RetryableError, StopError
from peoplesync.people.store import PeopleStore
from peoplesync.salesforce import web_flow
from peoplesync.salesforce.auth import Authenticator
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.salesforce.failure import (
    ApiLimitReachedError,
    ReconnectNeededError,
    SalesforceUnavailableError,
)
from peoplesync.salesforce.streaming import NEW_EVENTS
from peoplesync.secret_box import SecretBox
from peoplesync.settings import Settings
from peoplesync.sync.company_inbound import CompanyRunner
from peoplesync.sync.inbound import InboundRunner
from peoplesync.sync.inbound_report import InboundReport
from peoplesync.sync.integration import Integration, load_integration, save_integration
from peoplesync.sync.mapping import Direction
from peoplesync.sync.profile import Profile, Target
from peoplesync.sync.profile_store import load_profile
from peoplesync.sync.status import RECHECK, State, resumed
from peoplesync.sync.status_recorder import StatusRecorder
from peoplesync.wiring import people_store, status_store

salesforce_app = typer.Typer(help="Salesforce integrations.", no_args_is_help=True)
sync_app = typer.Typer(help="Run synchronisation.", no_args_is_help=True)
console = Console(stderr=True)
EXIT_REFUSED = 3  # paused by a person, or the org must be connected again
EXIT_API_LIMIT = 4  # the API budget or the org's allowance is spent


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
    ] = "",
    username: Annotated[
        str | None, typer.Option(help="Integration user (password or JWT bearer flow)")
    ] = None,
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
    jwt_key: Annotated[
        Path | None,
        typer.Option(help="Private key (PEM) of the connected app's certificate: JWT bearer flow"),
    ] = None,
    browser: Annotated[
        bool,
        typer.Option(
            "--browser",
            help="Approve access in a browser (web-server flow with PKCE); the redirect comes "
            "back to a one-shot listener on 127.0.0.1",
        ),
    ] = False,
    callback_port: Annotated[
        int, typer.Option(help="Port of the --browser listener (0 picks a free one)")
    ] = 0,
    name: str = "default",
) -> None:
    """Connect to an org, check the credentials, and store them encrypted.

    Headless: --username with a password (env PEOPLESYNC_SF_PASSWORD) or with --jwt-key, or
    the consumer secret alone (client credentials). Interactive: --browser.
    """
    integration = Integration(
        name,
        login_url,
        client_id,
        client_secret,
        username,
        password,
        ca_cert,
        jwt_key=jwt_key.read_text() if jwt_key else None,
    )

    async def run() -> dict[str, Any]:
        nonlocal integration
        settings = Settings()
        async with httpx.AsyncClient(verify=ca_cert or True, timeout=60) as http:
            if browser:
                refresh = await _approve_in_browser(http, integration, callback_port)
                integration = replace(integration, refresh_token=refresh)
            client = SalesforceClient(
                http, Authenticator(http, login_url, integration.credentials())
            )
            limits = await client.limits()
            if client.session is not None:
                integration = replace(integration, instance_url=client.session.instance_url)
        async with people_store(settings) as store:
            await save_integration(
                store, SecretBox.from_data_dir(settings.data_dir, settings.secret_key), integration
            )
            statuses = status_store(store)
            now = SystemClock().now()
            await statuses.transition(
                name,
                lambda s: resumed(s, now) if s.state is State.RECONNECT_NEEDED else s,
            )
            await statuses.log(name, "connect", detail=f"{login_url} as {username or client_id}")
        return {"integration": name, "daily_api_requests": limits["DailyApiRequests"]}

    try:
        result = asyncio.run(run())
    except PeopleSyncError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    typer.echo(json.dumps(result))


async def _approve_in_browser(
    http: httpx.AsyncClient, integration: Integration, callback_port: int
) -> str:
    """Run the web-server flow: print the link, wait for the redirect, return the refresh
    token."""
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    waiting = asyncio.create_task(web_flow.wait_for_redirect(ready, port=callback_port))
    redirect_uri = await ready
    authorization = web_flow.start(integration.login_url, integration.client_id, redirect_uri)
    console.print(
        "Open this link, log in and allow access (the connected app's callback URL must be "
        f"{redirect_uri}):\n{authorization.url}",
        soft_wrap=True,
    )
    try:
        redirect = await asyncio.wait_for(waiting, timeout=600)
    except TimeoutError:
        raise ConfigurationError(
            "no answer from the browser within 10 minutes", hint="run connect --browser again"
        ) from None
    credentials = await web_flow.finish(
        http,
        integration.login_url,
        integration.client_id,
        integration.client_secret or None,
        authorization,
        redirect,
    )
    return credentials.refresh_token


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
    verify = ssl.create_default_context(cafile=integration.ca_cert) if integration.ca_cert else True
    async with httpx.AsyncClient(verify=verify, timeout=180) as http:
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
) -> dict[str, Any]:
    """One polling pass of every step (recorded in the status when a recorder is given)."""
    summary: dict[str, Any] = {}
    for step_name, runner in runners.items():
        if recorder is None:
            report = await runner.run_once(_for_object(progress, step_name))
        else:
            report = await recorder.run_step(step_name, runner, _for_object(progress, step_name))
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
        recorder = StatusRecorder(status_store(store), name, client, SystemClock())
        try:
            return await inbound_pass(client, store, runners, progress, recorder)
        finally:
            await recorder.flush()


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
    store: PeopleStore,
    name: str,
    *,
    follow: bool,
    stream: bool = True,
    interval: float = 60.0,
    reconcile_every: float = 900.0,
    recheck: float = RECHECK.total_seconds(),
    on_summary: Callable[[dict[str, Any]], Any],
    stop: StopReport,
    progress: bool = False,
    on_stream: Callable[[str, InboundReport], Any] | None = None,
) -> int:
    """The inbound loop of ``sync run`` (and of ``serve``'s worker): passes of the profile's
    enabled steps through the status gate, once or (``follow``) until cancelled with the
    change streams beside them (``on_stream`` hears each batch of change events). Returns an
    exit code; ``stop(code, state, reason, until)`` says why a run ends early."""
    async with connected_client(settings, store, name) as client:
        profile = await load_profile(store, name)
        runners = profile_runners(client, store, profile, name)
        clock = SystemClock()
        recorder = StatusRecorder(status_store(store), name, client, clock, recheck=recheck)
        await recorder.install_budget()
        streams: asyncio.Task[None] | None = None
        streams_gave_up = False  # the org has no change streams: polling alone
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
                if follow and stream and streams is None and not streams_gave_up:
                    heard: Callable[[str, InboundReport], Any] = recorder.note_stream
                    if on_stream is not None:
                        heard = _both(recorder.note_stream, on_stream)
                    streams = asyncio.create_task(stream_changes(runners, heard))
                try:
                    if progress:
                        summary = await pass_with_progress(client, store, runners, recorder)
                    else:
                        summary = await inbound_pass(client, store, runners, None, recorder)
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
                await _wait_for_next_poll(streams, interval, reconcile_every)
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
        float,
        typer.Option(help="Seconds between safety-net polls while the change streams are up"),
    ] = 900.0,
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


async def pass_with_progress(
    client: SalesforceClient,
    store: PeopleStore,
    runners: dict[str, InboundRunner],
    recorder: StatusRecorder | None,
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

        return await inbound_pass(client, store, runners, show, recorder)


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
