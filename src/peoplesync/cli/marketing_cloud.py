"""CLI: Marketing Cloud business units and their Journey Builder activity endpoints."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.console import Console

from peoplesync.cli.report_sync import (
    ClicksWebhookOption,
    EventKeyOption,
    InboundWebhookOption,
    ReportsWebhookOption,
    UnitCaCertOption,
    edit,
    sync_reports,
)
from peoplesync.errors import PeopleSyncError
from peoplesync.marketing_cloud.config_json import ActivityKind, endpoint
from peoplesync.marketing_cloud.deploy import Deployed
from peoplesync.marketing_cloud.last_pass import LastPass, LastPasses
from peoplesync.marketing_cloud.operations import deploy_unit
from peoplesync.marketing_cloud.units import UnitInfo, UnitSettings
from peoplesync.settings import Settings
from peoplesync.wiring import business_units

marketing_cloud_app = typer.Typer(
    help="Marketing Cloud business units and their activity endpoints.", no_args_is_help=True
)
marketing_cloud_app.command("edit")(edit)
marketing_cloud_app.command("sync-reports")(sync_reports)
console = Console(stderr=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")]
CLIENT_SECRET_VARIABLE = "PEOPLESYNC_MC_CLIENT_SECRET"  # noqa: S105 (a variable name)
JWT_SECRET_VARIABLE = "PEOPLESYNC_MC_JWT_SECRET"  # noqa: S105 (a variable name)
SALT_KEY_VARIABLE = "PEOPLESYNC_MC_SALT_KEY"
PublicUrlOption = Annotated[
    str | None,
    typer.Option(
        "--public-url",
        envvar="PEOPLESYNC_PUBLIC_URL",
        help="The HTTPS address Marketing Cloud reaches peoplesync at",
    ),
]


def _shown(unit: UnitInfo, public_url: str | None) -> dict[str, Any]:
    shown = asdict(unit) | {"created_at": unit.created_at.isoformat()}
    if public_url:
        shown["endpoints"] = {
            kind.value: endpoint(public_url, unit.name, kind) for kind in ActivityKind
        }
    return shown


@marketing_cloud_app.command("add")
def add(
    name: Annotated[str, typer.Option("--name", help="A URL-safe name, e.g. acme-emea")],
    mid: Annotated[str, typer.Option("--mid", help="The business unit's MID")],
    client_id: Annotated[str, typer.Option("--client-id", help="Installed package client id")],
    auth_url: Annotated[
        str, typer.Option("--auth-url", help="Installed package Authentication Base URI")
    ],
    default_account: Annotated[
        str | None, typer.Option("--default-account", help="Provider account used by default")
    ] = None,
    short_domain: Annotated[
        str | None, typer.Option("--short-domain", help="Custom domain for short links")
    ] = None,
    report_storage: Annotated[
        str, typer.Option("--report-storage", help="native (data extensions) or external")
    ] = "native",
    event_definition_key: EventKeyOption = None,
    reports_webhook: ReportsWebhookOption = None,
    inbound_webhook: InboundWebhookOption = None,
    clicks_webhook: ClicksWebhookOption = None,
    ca_cert: UnitCaCertOption = None,
    salt_key_name: Annotated[
        str | None,
        typer.Option("--salt-key", help="The customerKey PEOPLESYNC_MC_SALT_KEY is stored as"),
    ] = None,
    public_url: PublicUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a business unit; secrets come from PEOPLESYNC_MC_CLIENT_SECRET and
    PEOPLESYNC_MC_JWT_SECRET (and PEOPLESYNC_MC_SALT_KEY for a Key Management salt, named
    by --salt-key)."""
    settings = UnitSettings(
        name=name,
        mid=mid,
        client_id=client_id,
        auth_url=auth_url,
        client_secret=os.environ.get(CLIENT_SECRET_VARIABLE, ""),
        jwt_secret=os.environ.get(JWT_SECRET_VARIABLE) or None,
        salt_key=os.environ.get(SALT_KEY_VARIABLE) or None,
        salt_key_name=salt_key_name,
        default_account=default_account,
        short_domain=short_domain,
        report_storage=report_storage,
        event_definition_key=event_definition_key,
        reports_webhook_url=reports_webhook,
        inbound_webhook_url=inbound_webhook,
        clicks_webhook_url=clicks_webhook,
        ca_cert=ca_cert,
    )

    async def run() -> UnitInfo:
        async with business_units(Settings()) as units:
            return await units.add(settings)

    try:
        unit = asyncio.run(run())
    except PeopleSyncError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(_shown(unit, public_url)))
        return
    console.print(f"business unit {name!r} (MID {unit.mid}) added; its secrets are sealed at rest")
    if not unit.has_jwt_secret:
        console.print(
            f"[yellow]no JWT signing secret:[/yellow] set {JWT_SECRET_VARIABLE} to verify calls"
        )
    if public_url:
        for kind in (ActivityKind.MESSAGE, ActivityKind.REPORTS):
            console.print(f"  {kind.value}: {endpoint(public_url, name, kind)}")


@marketing_cloud_app.command("list")
def list_units(public_url: PublicUrlOption = None, as_json: JsonOption = False) -> None:
    """List business units (never their secrets) and, with a public URL, their endpoints."""

    async def run() -> tuple[list[UnitInfo], dict[str, LastPass]]:
        async with business_units(Settings()) as units:
            return await units.list(), await LastPasses(units.engine, units.clock).all()

    units, passes = asyncio.run(run())
    if as_json:
        shown = [
            _shown(unit, public_url)
            | {"last_pass": passes[unit.name].as_json() if unit.name in passes else None}
            for unit in units
        ]
        typer.echo(json.dumps(shown))
        return
    for unit in units:
        signed = "signed" if unit.has_jwt_secret else "unsigned"
        typer.echo(f"{unit.name}\tMID {unit.mid}\t{unit.client_id}\t{signed}\t{unit.auth_url}")


@marketing_cloud_app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="The business unit's name")],
    as_json: JsonOption = False,
) -> None:
    """Remove a business unit (its activity endpoints stop answering)."""

    async def run() -> bool:
        async with business_units(Settings()) as units:
            return await units.remove(name)

    removed = asyncio.run(run())
    if as_json:
        typer.echo(json.dumps({"name": name, "removed": removed}))
    elif removed:
        console.print(f"business unit {name!r} removed")
    if not removed:
        console.print(f"[red]error:[/red] no business unit {name!r} (see: marketing-cloud list)")
        raise typer.Exit(1)


@marketing_cloud_app.command("deploy")
def deploy_command(
    name: Annotated[str, typer.Argument(help="The business unit's name")],
    ca_cert: Annotated[
        str | None,
        typer.Option("--ca-cert", help="A CA file to trust (default: the unit's own, if set)"),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create the five data extensions in the unit, or add the columns they lack (rows are
    kept); running it again changes nothing."""

    async def run() -> tuple[Deployed, ...]:
        async with business_units(Settings()) as units:
            keys = await units.keys(name)
        return await deploy_unit(keys, ca_cert)

    try:
        deployed = asyncio.run(run())
    except PeopleSyncError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps({"name": name, "extensions": [each.shown() for each in deployed]}))
        return
    for each in deployed:
        added = f" (+ {', '.join(each.added)})" if each.added else ""
        typer.echo(f"{each.name}\t{each.key}\t{each.status}{added}")
