"""CLI: ``peoplesync providers inbound ACCOUNT NUMBER``: a number's inbound configuration."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from rich.console import Console

from peoplesync.errors import PeopleSyncError
from peoplesync.messaging.inbound_number_service import InboundNumberRequest, inbound_number
from peoplesync.messaging.inbound_numbers import Action, NumberStatus
from peoplesync.settings import Settings
from peoplesync.wiring import messaging

console = Console(stderr=True)
_SAYS = {
    "not_configured": "has no inbound configuration: replies do not reach peoplesync",
    "ours": "forwards its replies to peoplesync",
    "elsewhere": "forwards its replies to another application",
}
_DOES = {
    "create": "--create forwards them to peoplesync",
    "remove": "--remove deletes the configuration",
    "use-default": "--use-default reassigns it to peoplesync",
}


def providers_inbound(
    account: Annotated[str, typer.Argument(help="The provider account's name")],
    number: Annotated[str, typer.Argument(help="The number replies come to, e.g. +385981000123")],
    channel: Annotated[str, typer.Option(help="sms, mms, rcs, viber or whatsapp")] = "sms",
    create: Annotated[
        bool, typer.Option("--create", help="Forward the number's replies to peoplesync")
    ] = False,
    remove: Annotated[
        bool, typer.Option("--remove", help="Delete peoplesync's configuration of the number")
    ] = False,
    use_default: Annotated[
        bool,
        typer.Option("--use-default", help="Take over another application's configuration"),
    ] = False,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            envvar="PEOPLESYNC_PUBLIC_URL",
            help="The address the provider reaches peoplesync's web app at",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")] = False,
) -> None:
    """Show whether a number's replies (MO) reach peoplesync, or change it: one action fits
    each state (--create when not configured, --remove when ours, --use-default when another
    application has it). The account's API key needs the numbers:manage scope."""
    chosen = [a for a, on in ((Action.CREATE, create), (Action.REMOVE, remove),
                              (Action.USE_DEFAULT, use_default)) if on]  # fmt: skip
    if len(chosen) > 1:
        console.print("[red]error:[/red] give at most one of --create, --remove, --use-default")
        raise typer.Exit(2)
    if not public_url:
        console.print("[red]error:[/red] give --public-url (or set PEOPLESYNC_PUBLIC_URL)")
        raise typer.Exit(2)
    request = InboundNumberRequest(account, number, channel, chosen[0] if chosen else None)

    async def run() -> NumberStatus:
        async with messaging(Settings()) as services:
            return await inbound_number(services.accounts, services.box, public_url, request)

    try:
        status = asyncio.run(run())
    except PeopleSyncError as exc:
        if as_json:
            typer.echo(json.dumps({"error": str(exc)}))
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    shown = status.as_json()
    if as_json:
        typer.echo(json.dumps(shown))
        return
    typer.echo(f"+{status.number} ({status.channel}) {_SAYS[status.state.value]}")
    if shown["forwards_to"]:
        typer.echo(f"  forwards to: {shown['forwards_to']}")
    typer.echo(f"  next: {_DOES[status.action.value]}")
