"""CLI: connect a Salesforce org and run inbound sync."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
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
from peoplesync.errors import PeopleSyncError
from peoplesync.salesforce.auth import Authenticator
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.secret_box import SecretBox
from peoplesync.settings import Settings
from peoplesync.sync.inbound import InboundRunner, InboundStep
from peoplesync.sync.integration import Integration, load_integration, save_integration
from peoplesync.sync.mapping import DEFAULT_MAPPINGS
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


async def run_inbound(
    settings: Settings, name: str = "default", progress: ProgressCallback | None = None
) -> dict[str, Any]:
    """One inbound pass of the default steps (Lead, then Contact); returns a summary."""
    summary: dict[str, Any] = {}
    async with people_store(settings) as store:
        integration = await load_integration(
            store, SecretBox.from_data_dir(settings.data_dir, settings.secret_key), name
        )
        async with httpx.AsyncClient(verify=integration.ca_cert or True, timeout=120) as http:
            client = SalesforceClient(
                http, Authenticator(http, integration.login_url, integration.credentials())
            )
            for sobject in ("Lead", "Contact"):
                step = InboundStep(sobject, DEFAULT_MAPPINGS[sobject], integration=name)
                runner = InboundRunner(client, store, step, SystemClock())
                report = await runner.run_once(_for_object(progress, sobject))
                summary[sobject] = {
                    "read": report.read,
                    "created": report.created,
                    "updated": report.updated,
                    "skipped": report.skipped,
                    "rejected": len(report.rejected),
                    "warnings": len(report.warnings),
                    "duplicates": len(report.duplicates),
                    "errors": [
                        {"record": e.record, "field": e.field, "error": e.detail}
                        for e in report.rejected[:20]
                    ],
                }
            summary["api_calls"] = client.usage.calls
        summary["persons"] = await store.count_persons()
    return summary


@sync_app.command("run")
def run_sync(
    name: str = "default",
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep polling for changes until stopped")
    ] = False,
    interval: Annotated[float, typer.Option(help="Seconds between passes with --follow")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")] = False,
) -> None:
    """Bring new and changed Salesforce Leads and Contacts into People (once, or --follow)."""
    settings = Settings()

    async def passes() -> None:
        while True:
            if as_json:
                summary = await run_inbound(settings, name)
                typer.echo(json.dumps(summary))
            else:
                summary = await _pass_with_progress(settings, name)
                _print_summary(summary)
            if not follow:
                return
            await asyncio.sleep(interval)

    try:
        asyncio.run(passes())
    except PeopleSyncError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print("stopped")


async def _pass_with_progress(settings: Settings, name: str) -> dict[str, Any]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def show(sobject: str, done: int, total: int) -> None:
            if sobject not in tasks:
                tasks[sobject] = bar.add_task(f"{sobject}s", total=total)
            bar.update(tasks[sobject], completed=done, total=total)

        return await run_inbound(settings, name, show)


def _print_summary(summary: dict[str, Any]) -> None:
    for sobject in ("Lead", "Contact"):
        part = summary[sobject]
        console.print(
            f"{sobject}: read {part['read']}, created {part['created']}, "
            f"updated {part['updated']}, unchanged {part['skipped']}, rejected {part['rejected']}"
        )
    calls = summary["api_calls"]
    console.print(f"People now holds {summary['persons']} persons ({calls} Salesforce API calls)")
