"""What a person runs against a stored business unit: a connection test and a deploy of the
data extensions, each on an HTTP client of its own that trusts the unit's CA file if it has
one. Shared by the CLI, the web pages and the REST API."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from peoplesync.marketing_cloud.api_errors import (
    MarketingCloudAuthError,
    MarketingCloudUnavailableError,
)
from peoplesync.marketing_cloud.client import RetryPolicy, client_for
from peoplesync.marketing_cloud.deploy import Deployed, deploy
from peoplesync.marketing_cloud.units import UnitKeys, tls_verify

TIMEOUT = 30.0


@dataclass(frozen=True)
class ConnectionCheck:
    """The outcome of fetching a token with the unit's credentials."""

    ok: bool
    message: str
    rest_url: str | None = None

    def shown(self) -> dict[str, object]:
        return {"ok": self.ok, "message": self.message, "rest_url": self.rest_url}


def _http(keys: UnitKeys, ca_cert: str | None) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=tls_verify(keys.info, ca_cert), timeout=TIMEOUT)


async def check_connection(keys: UnitKeys, ca_cert: str | None = None) -> ConnectionCheck:
    """``/v2/token`` with the unit's client id, secret and MID, once (no retries): refused
    credentials and an unreachable server are answers, not errors."""
    async with _http(keys, ca_cert) as http:
        client = client_for(keys, http)
        client.retry = RetryPolicy(attempts=1)
        try:
            rest_url = await client.check_credentials()
        except MarketingCloudAuthError as refused:
            return ConnectionCheck(False, f"credentials refused: {refused.message}")
        except MarketingCloudUnavailableError as failed:
            return ConnectionCheck(False, failed.message)
        except httpx.HTTPError as failed:
            return ConnectionCheck(False, f"{keys.info.auth_url} failed: {type(failed).__name__}")
    return ConnectionCheck(True, f"connected to MID {keys.info.mid}", rest_url)


async def deploy_unit(keys: UnitKeys, ca_cert: str | None = None) -> tuple[Deployed, ...]:
    """Create or upgrade the five data extensions in the unit (idempotent)."""
    async with _http(keys, ca_cert) as http:
        return await deploy(client_for(keys, http))
