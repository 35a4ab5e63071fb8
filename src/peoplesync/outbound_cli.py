"""CLI: push People changes to Salesforce (Person -> Lead, Person -> Contact)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

import typer
from rich.console import Console

from peoplesync.clock import SystemClock
from peoplesync.errors import PeopleSyncError, RetryableError
from peoplesync.settings import Settings
from peoplesync.sync.outbound import OutboundReport, OutboundRunner, default_steps
from peoplesync.sync_cli import connected_client
from peoplesync.wiring import people_store

push_app = typer.Typer(help="Push People changes to Salesforce.", no_args_is_help=True)
console = Console(stderr=True)


def _print(report: OutboundReport, calls: int) -> None:
    console.print(
        f"changes {report.changes} ({report.skipped} skipped), persons {report.persons}: "
        f"created {report.created}, linked by email {report.linked}, updated {report.updated}, "
        f"unchanged {report.unchanged}, errors {len(report.errors)} "
        f"({report.retrying} to retry) - {calls} Salesforce API calls"
    )
    for error in report.errors[:20]:
        console.print(f"  [red]{error.code}[/red] {error}")
    for warning in report.duplicates[:20]:
        console.print(f"  [yellow]{warning}[/yellow]")


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
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")] = False,
) -> None:
    """Push People changes to Salesforce: new persons become Leads, linked Leads and
    Contacts get the changed fields (once, or --follow)."""
    settings = Settings()

    async def passes() -> None:
        async with (
            people_store(settings) as store,
            connected_client(settings, store, name) as client,
        ):
            runner = OutboundRunner(client, store, default_steps(), SystemClock(), integration=name)
            first = True
            while True:
                try:
                    report = await runner.run_once(retry_failed=retry_failed and first)
                except RetryableError as error:
                    if not follow:
                        raise
                    console.print(f"[yellow]{error}; retrying[/yellow]")
                    await asyncio.sleep(interval)
                    continue
                first = False
                summary: dict[str, Any] = {**report.summary(), "api_calls": client.usage.calls}
                if as_json:
                    typer.echo(json.dumps(summary))
                else:
                    _print(report, client.usage.calls)
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
