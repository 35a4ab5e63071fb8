"""CLI: messaging provider accounts (their sealed API keys) and their sender names."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Annotated

import typer
from rich.console import Console

from peoplesync.errors import NotFoundError, PeopleSyncError
from peoplesync.settings import Settings
from peoplesync.wiring import messaging

providers_app = typer.Typer(help="Messaging provider accounts.", no_args_is_help=True)
console = Console(stderr=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")]
API_KEY_VARIABLE = "PEOPLESYNC_PROVIDER_API_KEY"


def _fail(exc: PeopleSyncError) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(1)


@providers_app.command("add")
def providers_add(
    name: Annotated[str, typer.Argument(help="A name for the account, e.g. main")],
    base_url: Annotated[str, typer.Option("--base-url", help="The account's API base URL")],
    ca_cert: Annotated[
        str | None,
        typer.Option("--ca-cert", help="A CA file to trust (the sandbox provider's ca_cert)"),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add an Infobip account; its API key comes from PEOPLESYNC_PROVIDER_API_KEY."""
    api_key = os.environ.get(API_KEY_VARIABLE, "")

    async def run() -> None:
        async with messaging(Settings()) as services:
            await services.accounts.add(name, base_url, api_key, ca_cert=ca_cert)

    try:
        asyncio.run(run())
    except PeopleSyncError as exc:
        raise _fail(exc) from None
    if as_json:
        typer.echo(json.dumps({"name": name, "kind": "infobip", "base_url": base_url}))
    else:
        console.print(f"provider account {name!r} added ({base_url}); its key is sealed at rest")


@providers_app.command("remove")
def providers_remove(
    name: Annotated[str, typer.Argument(help="The account's name")],
    force: Annotated[
        bool, typer.Option(help="Remove it even while messages wait to be sent through it")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Remove a provider account (e.g. to add it again with a new API key)."""

    async def run() -> bool:
        async with messaging(Settings()) as services:
            return await services.accounts.remove(name, force=force)

    try:
        removed = asyncio.run(run())
    except PeopleSyncError as exc:
        raise _fail(exc) from None
    if as_json:
        typer.echo(json.dumps({"name": name, "removed": removed}))
    elif removed:
        console.print(f"provider account {name!r} removed")
    if not removed:
        console.print(f"[red]error:[/red] no provider account {name!r} (see: providers list)")
        raise typer.Exit(1)


@providers_app.command("senders")
def providers_senders(
    name: Annotated[str, typer.Argument(help="The account's name")],
    channel: Annotated[str, typer.Option(help="The channel of --add/--remove, e.g. sms")] = "sms",
    add: Annotated[str | None, typer.Option("--add", help="Add this sender name")] = None,
    remove: Annotated[str | None, typer.Option("--remove", help="Remove this sender name")] = None,
    as_json: JsonOption = False,
) -> None:
    """List an account's sender names per channel, or add/remove one (the first of a channel
    is used when a message gives no --from)."""

    async def run() -> dict[str, list[str]]:
        async with messaging(Settings()) as services:
            if name not in {account.name for account in await services.accounts.list()}:
                raise NotFoundError(
                    f"no provider account {name!r}",
                    record=name,
                    field="account",
                    hint="see the provider accounts (peoplesync providers list)",
                )
            if add is not None:
                await services.senders.add(name, channel, add)
            if remove is not None and not await services.senders.remove(name, channel, remove):
                console.print(f"[red]error:[/red] {name!r} has no {channel} sender {remove!r}")
                raise typer.Exit(1)
            return await services.senders.of(name)

    try:
        shown = asyncio.run(run())
    except PeopleSyncError as exc:
        raise _fail(exc) from None
    if as_json:
        typer.echo(json.dumps(shown))
        return
    for each, names in shown.items():
        typer.echo(f"{each}\t{', '.join(names)}")


@providers_app.command("list")
def providers_list(as_json: JsonOption = False) -> None:
    """List provider accounts (never their keys)."""

    async def run() -> list[dict[str, str | None]]:
        async with messaging(Settings()) as services:
            return [
                {"name": a.name, "kind": a.kind, "base_url": a.base_url, "ca_cert": a.ca_cert}
                for a in await services.accounts.list()
            ]

    accounts = asyncio.run(run())
    if as_json:
        typer.echo(json.dumps(accounts))
        return
    for account in accounts:
        typer.echo(f"{account['name']}\t{account['kind']}\t{account['base_url']}")
