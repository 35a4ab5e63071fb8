"""Serving the sandbox org over HTTPS on loopback, seeded on first start."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import uvicorn

from peoplesync.sandbox.loopback import bind, run_until_stopped
from peoplesync.sandbox.salesforce.app import create_sandbox_app
from peoplesync.sandbox.salesforce.config import SandboxConfig
from peoplesync.sandbox.salesforce.keys import ensure_tls
from peoplesync.sandbox.salesforce.schema import Schema
from peoplesync.sandbox.salesforce.seed import SeedCounts, seed_org
from peoplesync.sandbox.salesforce.storage import Storage


async def seed_if_empty(
    config: SandboxConfig,
    *,
    accounts: int,
    contacts: int,
    leads: int,
    progress: Callable[[str, int], None] | None = None,
) -> SeedCounts | None:
    """Seed a new org (one with no leads, contacts or accounts); leave an existing one alone."""
    if not (accounts or contacts or leads):
        return None
    storage = Storage(config.database_path, Schema.standard())
    await storage.open()
    try:
        for sobject in ("Lead", "Contact", "Account"):
            async with storage.conn.execute(f'SELECT 1 FROM "{sobject}" LIMIT 1') as cursor:
                if await cursor.fetchone() is not None:
                    return None
        return await seed_org(
            storage,
            config.user_id,
            datetime.now(UTC),
            accounts=accounts,
            contacts=contacts,
            leads=leads,
            seed=config.seed,
            progress=progress,
        )
    finally:
        await storage.close()


def connection_info(config: SandboxConfig, ca_cert: str) -> dict[str, Any]:
    """What a script needs to reach the org (the contract of ``peoplesync sandbox salesforce``)."""
    return {
        "instance_url": config.instance_url,
        "login_url": config.instance_url,
        "client_id": config.client_id,
        "client_secret": config.client_secret,
        "username": config.username,
        "password": config.password,
        "ca_cert": ca_cert,
    }


async def serve(
    config: SandboxConfig,
    host: str,
    port: int,
    on_ready: Callable[[dict[str, Any]], None],
    stop: asyncio.Event | None = None,
) -> None:
    """Serve until ``stop`` is set (or cancelled); ``on_ready`` gets the connection info."""
    sock = bind(host, port)
    actual_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    config.instance_url = f"https://{shown_host}:{actual_port}"
    ca_cert, cert, key = ensure_tls(config.data_dir / "tls", (host, "localhost", "127.0.0.1"))
    app = create_sandbox_app(config)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            ssl_certfile=str(cert),
            ssl_keyfile=str(key),
            log_level="warning",
            lifespan="on",
            access_log=False,
            # h11 writes header names as the app spells them (WireHeaders); uvicorn's httptools
            # protocol, which "auto" picks when httptools is installed, lower-cases them.
            http="h11",
            # Salesforce sends no Server header; Date comes from WireHeaders, spelled as it does.
            server_header=False,
            date_header=False,
            # Streaming clients hold long polls open; shutting down must not wait for them.
            timeout_graceful_shutdown=2,
            # Clients keep pooled connections for a while between calls (a bulk client polls,
            # sleeps, polls); closing idle ones after uvicorn's 5 s makes a reused connection
            # fail as the server drops it ("RemoteDisconnected"). Salesforce keeps them longer.
            timeout_keep_alive=120,
        )
    )
    await run_until_stopped(
        server, sock, lambda: on_ready(connection_info(config, str(ca_cert))), stop
    )


def print_ready(info: dict[str, Any]) -> None:
    """Print the one JSON line scripts wait for."""
    print(json.dumps(info), flush=True)
