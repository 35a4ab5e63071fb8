"""CLI: ``peoplesync salesforce connect``: check an org's credentials and store them sealed.

The ``salesforce`` command group lives here; its other commands (pause, resume, budget,
delete) are registered from ``status_cli`` by ``peoplesync.cli.main``."""

from __future__ import annotations

import asyncio
import json
import ssl
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from peoplesync.errors import ConfigurationError, PeopleSyncError
from peoplesync.salesforce import web_flow
from peoplesync.salesforce.auth import Authenticator
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.settings import Settings
from peoplesync.sync.connection import review_hint, store_connection
from peoplesync.sync.integration import Integration
from peoplesync.sync.organization import client_organization
from peoplesync.sync.status.state import State, resumed
from peoplesync.wiring import services

salesforce_app = typer.Typer(help="Salesforce integrations.", no_args_is_help=True)
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
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=ca_cert) if ca_cert else True
        )
        async with httpx.AsyncClient(verify=verify, timeout=60) as http:
            if browser:
                refresh = await _approve_in_browser(http, integration, callback_port)
                integration = replace(integration, refresh_token=refresh)
            client = SalesforceClient(
                http, Authenticator(http, login_url, integration.credentials())
            )
            limits = await client.limits()
            organization_id = await client_organization(client)
            if client.session is not None:
                integration = replace(integration, instance_url=client.session.instance_url)
        async with services(settings) as wired:
            connected = await store_connection(
                wired.people, wired.engine, wired.box, integration, organization_id
            )
            statuses = wired.statuses
            now = wired.clock.now()
            await statuses.transition(
                name,
                lambda s: resumed(s, now) if s.state is State.RECONNECT_NEEDED else s,
            )
            await statuses.log(name, "connect", detail=f"{login_url} as {username or client_id}")
        if connected.awaiting_review:
            console.print(
                f"Outbound steps ({', '.join(connected.awaiting_review)}) are off until you "
                f"review them: nothing is written to Salesforce yet; "
                f"{review_hint(name, connected.awaiting_review)}.",
                soft_wrap=True,
            )
        return {
            "integration": name,
            "organization_id": organization_id,
            "daily_api_requests": limits["DailyApiRequests"],
            "outbound_awaiting_review": list(connected.awaiting_review),
        }

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


__all__ = ["salesforce_app"]
