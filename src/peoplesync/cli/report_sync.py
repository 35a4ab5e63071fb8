"""CLI: ``marketing-cloud sync-reports`` and ``marketing-cloud edit`` (report write-back)."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import asdict
from typing import Annotated

import httpx
import typer
from rich.console import Console

from peoplesync.errors import PeopleSyncError
from peoplesync.marketing_cloud.client import client_for
from peoplesync.marketing_cloud.last_pass import LastPass, LastPasses
from peoplesync.marketing_cloud.report_marks import ReportMarks
from peoplesync.marketing_cloud.report_sync import ReportSync, SyncOutcome
from peoplesync.marketing_cloud.sync_lease import SyncLease
from peoplesync.marketing_cloud.units import BusinessUnits, UnitInfo, tls_verify
from peoplesync.settings import Settings
from peoplesync.wiring import business_units

console = Console(stderr=True)
SALT_KEY_VARIABLE = "PEOPLESYNC_MC_SALT_KEY"
EventKeyOption = Annotated[
    str | None,
    typer.Option(
        "--event-definition-key", help="API event fired when a journey's message is replied to"
    ),
]
ReportsWebhookOption = Annotated[
    str | None,
    typer.Option(
        "--reports-webhook", help="External storage: URL delivery and seen rows are POSTed to"
    ),
]
ClicksWebhookOption = Annotated[
    str | None,
    typer.Option(
        "--clicks-webhook",
        help="External storage: URL tracked clicks are POSTed to (default: the reports one)",
    ),
]
UnitCaCertOption = Annotated[
    str | None, typer.Option("--ca-cert", help="A CA file to trust (a private sandbox's)")
]
InboundWebhookOption = Annotated[
    str | None,
    typer.Option("--inbound-webhook", help="External storage: URL replies are POSTed to"),
]


def edit(
    name: Annotated[str, typer.Argument(help="The business unit's name")],
    report_storage: Annotated[
        str | None, typer.Option("--report-storage", help="native (data extensions) or external")
    ] = None,
    event_definition_key: EventKeyOption = None,
    reports_webhook: ReportsWebhookOption = None,
    inbound_webhook: InboundWebhookOption = None,
    clicks_webhook: ClicksWebhookOption = None,
    salt_key: Annotated[
        str | None,
        typer.Option(
            "--salt-key",
            help=f"Store ${SALT_KEY_VARIABLE} as the salt key with this customerKey "
            "(Key Management external key)",
        ),
    ] = None,
    ca_cert: UnitCaCertOption = None,
    remove_salt_key: Annotated[
        str | None,
        typer.Option("--remove-salt-key", help="Forget the salt key with this customerKey"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")] = False,
) -> None:
    """Change where a unit's reports are written back, its reply event and its CA file (""
    clears); add or remove a named Key Management salt key."""
    salt_value = os.environ.get(SALT_KEY_VARIABLE, "") if salt_key is not None else ""
    if salt_key is not None and not salt_value.strip():
        console.print(f"[red]error:[/red] --salt-key needs the key's value in ${SALT_KEY_VARIABLE}")
        raise typer.Exit(1)

    async def run() -> UnitInfo:
        async with business_units(Settings()) as units:
            if salt_key is not None:
                await units.set_salt_key(name, salt_key, salt_value)
            if remove_salt_key is not None:
                await units.remove_salt_key(name, remove_salt_key)
            return await _write_back(
                units,
                name,
                report_storage,
                event_definition_key,
                reports_webhook,
                inbound_webhook,
                clicks_webhook,
                ca_cert,
            )

    try:
        unit = asyncio.run(run())
    except PeopleSyncError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(asdict(unit) | {"created_at": unit.created_at.isoformat()}))
    else:
        console.print(f"business unit {name!r}: reports kept {unit.report_storage}")


async def _write_back(
    units: BusinessUnits,
    name: str,
    report_storage: str | None,
    event_definition_key: str | None,
    reports_webhook: str | None,
    inbound_webhook: str | None,
    clicks_webhook: str | None,
    ca_cert: str | None,
) -> UnitInfo:
    return await units.edit_write_back(
        name,
        report_storage=report_storage,
        event_definition_key=event_definition_key,
        reports_webhook_url=reports_webhook,
        inbound_webhook_url=inbound_webhook,
        clicks_webhook_url=clicks_webhook,
        ca_cert=ca_cert,
    )


async def _sync(
    name: str, once: bool, interval: float, ca_cert: str | None, lease: float
) -> SyncOutcome:
    async with business_units(Settings()) as units:
        keys = await units.keys(name)
        verify = tls_verify(keys.info, ca_cert)
        async with httpx.AsyncClient(verify=verify, timeout=30.0) as http:
            sync = ReportSync(
                keys.info,
                ReportMarks(units.engine, units.clock),
                client_for(keys, http),
                http,
                lease=SyncLease(units.engine, units.clock, name, seconds=lease),
            )
            last = LastPasses(units.engine, units.clock)
            while True:
                outcome = await sync.run_once()
                if outcome.locked_until is None:  # shown as the unit's last pass
                    await last.record(
                        LastPass(
                            name,
                            units.clock.now(),
                            dict(outcome.written),
                            outcome.events,
                            len(outcome.errors),
                            by="cli",
                        )
                    )
                for error in outcome.errors:
                    console.print(f"[yellow]refused:[/yellow] {error}")
                if outcome.locked_until is not None:
                    console.print(_locked(name, outcome))
                if once:
                    return outcome
                if outcome.locked_until is None:
                    console.print(f"{name}: {outcome.total} rows, {outcome.events} events")
                await asyncio.sleep(interval)


def _locked(name: str, outcome: SyncOutcome) -> str:
    until = outcome.locked_until.isoformat() if outcome.locked_until else "now"
    return f"{name}: skipped, another sync-reports holds this unit (its lease runs until {until})"


def sync_reports(
    name: Annotated[str, typer.Argument(help="The business unit's name")],
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit")] = False,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between passes")] = 30.0,
    ca_cert: UnitCaCertOption = None,
    lease: Annotated[
        float,
        typer.Option(
            "--lease",
            min=1.0,
            help="Seconds a pass holds the unit against other copies (renewed page by page; "
            "a killed copy's lease runs out after this)",
        ),
    ] = 120.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")] = False,
) -> None:
    """Write report rows not written yet into the unit's data extensions (or webhooks) and
    fire reply events; with --once a single pass."""
    try:
        outcome = asyncio.run(_sync(name, once, interval, ca_cert, lease))
    except PeopleSyncError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    summary: dict[str, object] = {
        "written": outcome.written,
        "events": outcome.events,
        "refused": len(outcome.errors),
    }
    if outcome.locked_until is not None:
        summary["skipped"] = "locked"
    if as_json:
        typer.echo(json.dumps(summary))
    elif outcome.locked_until is None:
        console.print(f"{name}: {outcome.total} rows written, {outcome.events} events fired")
    if outcome.errors:
        raise typer.Exit(2)
