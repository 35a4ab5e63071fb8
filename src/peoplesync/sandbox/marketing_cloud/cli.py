"""``peoplesync sandbox marketing-cloud``: run the local Marketing Cloud business unit."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Annotated

import typer

from peoplesync.sandbox.marketing_cloud.config import Knobs, SandboxConfig
from peoplesync.sandbox.marketing_cloud.journey_cli import journeys_app
from peoplesync.sandbox.marketing_cloud.server import serve, stored_credentials
from peoplesync.sandbox.salesforce.keys import ensure_tls

marketing_cloud_app = typer.Typer(
    help="A local Marketing Cloud business unit; `journeys` runs journeys in it."
)
marketing_cloud_app.add_typer(journeys_app, name="journeys")


@marketing_cloud_app.callback(invoke_without_command=True)
def marketing_cloud(
    context: typer.Context,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Where the sandbox keeps its data extensions")
    ] = Path(".peoplesync/sandbox-marketing-cloud"),
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one)")] = 8445,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    mid: Annotated[str, typer.Option(help="The business unit's MID")] = "100000001",
    seed: Annotated[int, typer.Option(help="Seed for the fault knobs")] = 0,
    token_lifetime: Annotated[int, typer.Option(help="Seconds an access token lives")] = 1079,
    latency_ms: Annotated[int, typer.Option(help="Latency added to every REST call")] = 0,
    rate_429: Annotated[float, typer.Option(help="Share of REST calls answered 429")] = 0.0,
    rate_500: Annotated[float, typer.Option(help="Share of REST calls answered 500")] = 0.0,
    retry_after: Annotated[int, typer.Option(help="Retry-After seconds sent with 429")] = 1,
    https: Annotated[
        bool,
        typer.Option(
            "--https/--http", help="Serve HTTPS with a certificate of its own CA (ca_cert)"
        ),
    ] = True,
) -> None:
    """Serve a Marketing Cloud-shaped business unit on loopback; prints one JSON line."""
    if context.invoked_subcommand is not None:
        return
    root = data_dir.resolve()
    credentials = stored_credentials(root)
    config = SandboxConfig(
        data_dir=root,
        client_id=credentials["client_id"],
        client_secret=credentials["client_secret"],
        jwt_secret=credentials["jwt_secret"],
        mid=mid,
        seed=seed,
        knobs=Knobs(
            token_lifetime_seconds=token_lifetime,
            latency_ms=latency_ms,
            rate_429=rate_429,
            rate_500=rate_500,
            retry_after_seconds=retry_after,
        ),
    )
    tls = ensure_tls(root / "tls", (host, "localhost", "127.0.0.1")) if https else None

    def ready(info: dict[str, str]) -> None:
        typer.echo(json.dumps(info), nl=True)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(config, host, port, ready, tls=tls))
