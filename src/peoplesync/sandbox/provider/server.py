"""Serving the sandbox provider on loopback: for ``peoplesync sandbox provider`` and for the
demo, which runs it in its own process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from collections.abc import Callable
from pathlib import Path

import uvicorn

from peoplesync.sandbox.provider.app import create_provider_app
from peoplesync.sandbox.provider.config import ProviderConfig


def stored_api_key(data_dir: Path) -> str:
    """The provider's API key, kept in ``api.key`` (owner-only) so it survives restarts."""
    key_file = data_dir / "api.key"
    if key_file.exists():
        return key_file.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    api_key = secrets.token_urlsafe(24)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(api_key)
    return api_key


async def serve(
    config: ProviderConfig,
    host: str,
    port: int,
    on_ready: Callable[[dict[str, str]], None],
    stop: asyncio.Event | None = None,
    tls: tuple[Path, Path, Path] | None = None,
) -> None:
    """Serve until ``stop`` is set (or cancelled); ``on_ready`` gets ``base_url`` and
    ``api_key`` (and ``ca_cert`` with ``tls``: the CA, certificate and key files)."""
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
            ssl_certfile=str(tls[1]) if tls else None,
            ssl_keyfile=str(tls[2]) if tls else None,
            # A client holding a keep-alive connection must not hold up a shutdown.
            timeout_graceful_shutdown=2,
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                await task
                return
            await asyncio.sleep(0.02)
        scheme = "https" if tls else "http"
        info = {"base_url": f"{scheme}://{host}:{actual}", "api_key": config.api_key}
        if tls:
            info["ca_cert"] = str(tls[0])
        on_ready(info)
        if stop is not None:
            waiter = asyncio.create_task(stop.wait())
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            server.should_exit = True
        await task
    finally:
        if not task.done():
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(task), timeout=5)
        sock.close()
