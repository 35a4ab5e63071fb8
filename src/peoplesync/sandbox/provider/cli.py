"""``peoplesync sandbox provider``: run the local messaging provider network."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import socket
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from peoplesync.sandbox.provider.app import create_provider_app
from peoplesync.sandbox.provider.config import ProviderConfig, ProviderKnobs


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
    retry_scale: Annotated[
        float, typer.Option(help="Scale of the webhook retry schedule (1 = 1 min + n^2 min)")
    ] = 1.0,
) -> None:
    """Serve an Infobip-shaped provider over HTTP on loopback; prints one JSON line."""
    key_file = data_dir / "api.key"
    if api_key is None:
        if key_file.exists():
            api_key = key_file.read_text().strip()
        else:
            data_dir.mkdir(parents=True, exist_ok=True)
            api_key = secrets.token_urlsafe(24)
            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(api_key)
    config = ProviderConfig(
        data_dir=data_dir.resolve(),
        api_key=api_key,
        seed=seed,
        knobs=ProviderKnobs(
            latency_ms=latency_ms,
            rate_500=rate_500,
            rate_429=rate_429,
            report_delay_seconds=report_delay,
        ),
        retry_scale=retry_scale,
    )

    async def run() -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(512)
        actual = sock.getsockname()[1]
        server = uvicorn.Server(
            uvicorn.Config(
                create_provider_app(config),
                log_level="warning",
                lifespan="on",
                access_log=False,
            )
        )
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                await task
                return
            await asyncio.sleep(0.02)
        typer.echo(json.dumps({"base_url": f"http://{host}:{actual}", "api_key": api_key}))
        await task

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
