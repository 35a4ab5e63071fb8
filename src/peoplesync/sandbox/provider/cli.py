"""``peoplesync sandbox provider``: run the local messaging provider network."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Annotated

import typer

from peoplesync.sandbox.provider.config import ProviderConfig, ProviderKnobs
from peoplesync.sandbox.provider.server import serve, stored_api_key
from peoplesync.sandbox.salesforce.keys import ensure_tls


def provider(
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Where the provider keeps its messages")
    ] = Path(".peoplesync/sandbox-provider"),
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one)")] = 8444,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    seed: Annotated[int, typer.Option(help="Seed for faults and generated ids")] = 0,
    api_key: Annotated[
        str | None, typer.Option(help="API key clients must send (default: made up, printed)")
    ] = None,
    latency_ms: Annotated[int, typer.Option(help="Latency added to every call")] = 0,
    rate_500: Annotated[float, typer.Option(help="Share of sends answered 500")] = 0.0,
    rate_429: Annotated[float, typer.Option(help="Share of sends answered 429")] = 0.0,
    report_delay: Annotated[
        float, typer.Option(help="Seconds from accept to the delivery report")
    ] = 1.0,
    report_batch: Annotated[
        int, typer.Option(help="Reports due together to one URL: at most this many in a post")
    ] = 100,
    webhook_concurrency: Annotated[int, typer.Option(help="Report posts in flight at once")] = 4,
    retry_scale: Annotated[
        float, typer.Option(help="Scale of the webhook retry schedule (1 = 1 min + n^2 min)")
    ] = 1.0,
    https: Annotated[
        bool,
        typer.Option(
            "--https/--http",
            help="Serve HTTPS with a certificate of its own CA (printed as ca_cert)",
        ),
    ] = False,
    mo_url: Annotated[
        str | None,
        typer.Option(help="Where replies from handsets (MO) are posted; also PUT /control/mo-url"),
    ] = None,
) -> None:
    """Serve an Infobip-shaped provider on loopback; prints one JSON line with how to reach it."""
    if api_key is None:
        api_key = stored_api_key(data_dir)
    config = ProviderConfig(
        data_dir=data_dir.resolve(),
        api_key=api_key,
        seed=seed,
        knobs=ProviderKnobs(
            latency_ms=latency_ms,
            rate_500=rate_500,
            rate_429=rate_429,
            report_delay_seconds=report_delay,
            report_batch=report_batch,
            webhook_concurrency=webhook_concurrency,
        ),
        retry_scale=retry_scale,
        mo_url=mo_url,
    )
    tls = (
        ensure_tls(data_dir.resolve() / "tls", (host, "localhost", "127.0.0.1")) if https else None
    )

    def ready(info: dict[str, str]) -> None:
        typer.echo(json.dumps(info))

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(config, host, port, ready, tls=tls))
