"""CLI: connect a Salesforce org and run inbound sync."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

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


async def run_inbound(settings: Settings, name: str = "default") -> dict[str, Any]:
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
                report = await InboundRunner(client, store, step, SystemClock()).run_once()
                summary[sobject] = {
                    "read": report.read,
                    "created": report.created,
                    "updated": report.updated,
                    "skipped": report.skipped,
                    "rejected": len(report.rejected),
                    "warnings": len(report.warnings),
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
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")] = False,
) -> None:
    """One pass: bring new and changed Salesforce Leads and Contacts into People."""
    try:
        summary = asyncio.run(run_inbound(Settings(), name))
    except PeopleSyncError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(summary))
        return
    for sobject in ("Lead", "Contact"):
        part = summary[sobject]
        console.print(
            f"{sobject}: read {part['read']}, created {part['created']}, "
            f"updated {part['updated']}, unchanged {part['skipped']}, rejected {part['rejected']}"
        )
    calls = summary["api_calls"]
    console.print(f"People now holds {summary['persons']} persons ({calls} Salesforce API calls)")
