"""Serving the sandbox provider on loopback: for ``peoplesync sandbox provider`` and for the
demo, which runs it in its own process."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from pathlib import Path

from peoplesync.sandbox.loopback import serve_app
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
    await serve_app(
        create_provider_app(config),
        host,
        port,
        lambda base_url: {"base_url": base_url, "api_key": config.api_key},
        on_ready,
        stop,
        tls,
    )
