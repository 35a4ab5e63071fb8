"""``peoplesync sandbox salesforce``: run the local Salesforce org."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from peoplesync.sandbox.salesforce.config import FaultKnobs, SandboxConfig
from peoplesync.sandbox.salesforce.schema import Schema
from peoplesync.sandbox.salesforce.server import print_ready, seed_if_empty, serve
from peoplesync.sandbox.salesforce.storage import Storage

sandbox_app = typer.Typer(
    help="Local sandboxes of the systems peoplesync talks to.", no_args_is_help=True
)
console = Console(stderr=True)

DataDir = Annotated[
    Path, typer.Option("--data-dir", help="Where the org keeps its database and certificates")
]


@sandbox_app.command("salesforce")
def salesforce(
    data_dir: DataDir = Path(".peoplesync/sandbox-salesforce"),
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one)")] = 8443,
    host: Annotated[
        str, typer.Option(help="Address to listen on (loopback only by default)")
    ] = "127.0.0.1",
    seed_leads: Annotated[int, typer.Option(help="Leads to create in a new org")] = 0,
    seed_contacts: Annotated[int, typer.Option(help="Contacts to create in a new org")] = 0,
    seed_accounts: Annotated[int, typer.Option(help="Accounts to create in a new org")] = 0,
    seed: Annotated[int, typer.Option(help="Seed for data and faults (same seed, same org)")] = 0,
    token_lifetime: Annotated[int, typer.Option(help="Access token lifetime in seconds")] = 7200,
    api_limit: Annotated[int, typer.Option(help="Daily API allowance")] = 100_000,
    latency_ms: Annotated[int, typer.Option(help="Latency added to every API call")] = 0,
    rate_503: Annotated[float, typer.Option(help="Share of API calls answered 503")] = 0.0,
    rate_timeout: Annotated[float, typer.Option(help="Share of API calls that time out")] = 0.0,
    rate_lock: Annotated[
        float, typer.Option(help="Share of writes failing UNABLE_TO_LOCK_ROW")
    ] = 0.0,
    bulk_latency: Annotated[
        float, typer.Option(help="Seconds a closed bulk job or batch waits in the queue")
    ] = 2.0,
    bulk_rows_per_second: Annotated[
        float, typer.Option(help="Rows a second a bulk ingest job writes (0: no limit)")
    ] = 10_000.0,
    bulk_query_rows_per_second: Annotated[
        float, typer.Option(help="Rows a second a bulk query job reads (0: no limit)")
    ] = 100_000.0,
    rate_bulk_failed: Annotated[
        float, typer.Option(help="Share of bulk jobs (1.0: batches) the org ends Failed")
    ] = 0.0,
    rate_bulk_aborted: Annotated[
        float, typer.Option(help="Share of bulk jobs the org ends Aborted")
    ] = 0.0,
) -> None:
    """Serve a Salesforce org over HTTPS; prints one JSON line with how to reach it."""
    config = SandboxConfig(
        data_dir=data_dir.resolve(),
        seed=seed,
        token_lifetime_seconds=token_lifetime,
        api_daily_limit=api_limit,
        knobs=FaultKnobs(
            latency_ms=latency_ms,
            rate_503=rate_503,
            rate_timeout=rate_timeout,
            rate_lock_error=rate_lock,
            bulk_latency_seconds=bulk_latency,
            bulk_rows_per_second=bulk_rows_per_second,
            bulk_query_rows_per_second=bulk_query_rows_per_second,
            rate_bulk_failed=rate_bulk_failed,
            rate_bulk_aborted=rate_bulk_aborted,
        ),
    )

    async def run() -> None:
        counts = await seed_if_empty(
            config, accounts=seed_accounts, contacts=seed_contacts, leads=seed_leads
        )
        if counts is not None:
            console.print(
                f"seeded {counts.accounts} accounts, {counts.contacts} contacts, {counts.leads} leads, "
                f"{counts.opportunities} opportunities, {counts.campaigns} campaigns"
            )
        # The org process keeps many rows alive (bulk job data, change events): what start-up
        # made is left out of full collections, and young objects are collected less often,
        # so a 10,000-row job is not interrupted by collections walking all of them.
        gc.freeze()
        gc.set_threshold(100_000, 50, 100)
        await serve(config, host, port, print_ready)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


@sandbox_app.command("custom-field")
def custom_field(
    sobject: Annotated[str, typer.Argument(help="Object, e.g. Lead")],
    name: Annotated[str, typer.Argument(help="Field API name ending in __c")],
    kind: Annotated[
        str,
        typer.Option(
            "--type", help="string, email, picklist, boolean, int, double, date, datetime..."
        ),
    ] = "string",
    length: int = 255,
    external_id: Annotated[bool, typer.Option("--external-id", help="Usable for upsert")] = False,
    data_dir: DataDir = Path(".peoplesync/sandbox-salesforce"),
) -> None:
    """Add a custom field to an org (while it is stopped, or live through /sandbox/admin)."""

    async def run() -> None:
        storage = Storage(data_dir.resolve() / "org.sqlite3", Schema.standard())
        await storage.open()
        try:
            await storage.add_custom_field(
                sobject,
                name,
                {"kind": kind, "length": length, "external_id": external_id, "unique": external_id},
            )
        finally:
            await storage.close()

    try:
        asyncio.run(run())
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    typer.echo(json.dumps({"sobject": sobject, "name": name, "type": kind}))
