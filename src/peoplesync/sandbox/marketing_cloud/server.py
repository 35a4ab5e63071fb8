"""Serving the Marketing Cloud sandbox on loopback, for ``peoplesync sandbox marketing-cloud``."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from pathlib import Path

from peoplesync.sandbox.loopback import serve_app
from peoplesync.sandbox.marketing_cloud.app import create_marketing_cloud_app
from peoplesync.sandbox.marketing_cloud.config import SandboxConfig
from peoplesync.sandbox.owner_file import kept_secret


def stored_credentials(data_dir: Path) -> dict[str, str]:
    """Client id, client secret and JWT secret, kept owner-only in ``credentials.json`` so
    they survive restarts."""
    text = kept_secret(
        data_dir / "credentials.json",
        lambda: json.dumps(
            {
                "client_id": secrets.token_hex(12),
                "client_secret": secrets.token_urlsafe(24),
                "jwt_secret": secrets.token_urlsafe(48),
            }
        ),
    )
    credentials: dict[str, str] = json.loads(text)
    return credentials


async def serve(
    config: SandboxConfig,
    host: str,
    port: int,
    on_ready: Callable[[dict[str, str]], None],
    stop: asyncio.Event | None = None,
    tls: tuple[Path, Path, Path] | None = None,
) -> None:
    """Serve until ``stop`` is set (or cancelled); ``on_ready`` gets the URLs and credentials
    (and ``ca_cert`` with ``tls``: the CA, certificate and key files)."""

    def describe(base_url: str) -> dict[str, str]:
        return {
            "auth_url": f"{base_url}/",
            "rest_url": f"{base_url}/",
            "soap_url": f"{base_url}/",
            "client_id": config.client_id,
            "client_secret": config.client_secret,
            "mid": config.mid,
            "jwt_secret": config.jwt_secret,
        }

    await serve_app(create_marketing_cloud_app(config), host, port, describe, on_ready, stop, tls)
