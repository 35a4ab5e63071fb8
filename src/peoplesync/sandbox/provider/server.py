"""Serving the sandbox provider on loopback: for ``peoplesync sandbox provider`` and for the
demo, which runs it in its own process."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from pathlib import Path

import uvicorn

from peoplesync.sandbox.loopback import bind, run_until_stopped
from peoplesync.sandbox.owner_file import kept_secret
from peoplesync.sandbox.provider.app import create_provider_app
from peoplesync.sandbox.provider.config import ProviderConfig


def stored_api_key(data_dir: Path) -> str:
    """The provider's API key, kept in ``api.key`` (owner-only) so it survives restarts."""
    return kept_secret(data_dir / "api.key", lambda: secrets.token_urlsafe(24))


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
    sock = bind(host, port)
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
    scheme = "https" if tls else "http"
    info = {"base_url": f"{scheme}://{host}:{actual}", "api_key": config.api_key}
    if tls:
        info["ca_cert"] = str(tls[0])
    await run_until_stopped(server, sock, lambda: on_ready(info), stop)
