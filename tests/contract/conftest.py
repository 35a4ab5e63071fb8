"""The sandbox org served over loopback HTTPS for third-party clients."""

from __future__ import annotations

import asyncio
import json
import ssl
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from peoplesync.sandbox.salesforce.config import FaultKnobs, SandboxConfig
from peoplesync.sandbox.salesforce.server import serve


def password_token(info: dict[str, Any]) -> str:
    """An access token from the password grant, fetched with the standard library."""
    context = ssl.create_default_context(cafile=info["ca_cert"])
    form = urllib.parse.urlencode(
        {
            "grant_type": "password",
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
            "username": info["username"],
            "password": info["password"],
        }
    ).encode()
    request = urllib.request.Request(f"{info['login_url']}/services/oauth2/token", data=form)
    with urllib.request.urlopen(request, context=context) as response:
        return str(json.load(response)["access_token"])


@pytest.fixture
async def served_org(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[dict[str, Any]]:
    """Connection info of an org listening on 127.0.0.1 with TLS, plus an access token.

    Clients built on requests find the org's CA through REQUESTS_CA_BUNDLE, the way a user
    would point them at a private CA.
    """
    # Bulk jobs take a little time, as in an org, so that clients poll for their end.
    config = SandboxConfig(
        data_dir=tmp_path / "org",
        streaming_timeout_seconds=2.0,
        knobs=FaultKnobs(bulk_latency_seconds=0.3, bulk_rows_per_second=20_000),
    )
    ready: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(config, "127.0.0.1", 0, ready.set_result, stop))
    info = await asyncio.wait_for(ready, timeout=30)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", info["ca_cert"])
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    info["token"] = await asyncio.to_thread(password_token, info)
    info["config"] = config
    yield info
    stop.set()
    await task
