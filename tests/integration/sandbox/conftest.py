"""A sandbox org in-process (ASGI) with a signed-in client and a controllable clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from peoplesync.sandbox.salesforce.app import create_sandbox_app
from peoplesync.sandbox.salesforce.change import RecordChange
from peoplesync.sandbox.salesforce.config import FaultKnobs, SandboxConfig

BASE = "https://sandbox.test"
API = "/services/data/v59.0"


@dataclass
class Clock:
    """A settable clock for the org."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 24, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Org:
    """Handles for a test: the app, an authorised client, the clock and published events."""

    app: Starlette
    config: SandboxConfig
    client: httpx.AsyncClient
    clock: Clock
    events: list[tuple[str, list[RecordChange]]]
    token: str

    async def create(self, sobject: str, **fields: Any) -> str:
        response = await self.client.post(f"{API}/sobjects/{sobject}/", json=fields)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def soap(self, operation: str) -> httpx.Response:
        """POST a partner SOAP call (``operation`` is the body element) with this session."""
        envelope = (
            '<?xml version="1.0"?><soapenv:Envelope '
            'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:urn="urn:partner.soap.sforce.com"><soapenv:Header><urn:SessionHeader>'
            f"<urn:sessionId>{self.token}</urn:sessionId></urn:SessionHeader></soapenv:Header>"
            f"<soapenv:Body>{operation}</soapenv:Body></soapenv:Envelope>"
        )
        return await self.client.post(
            "/services/Soap/u/59.0", content=envelope, headers={"Content-Type": "text/xml"}
        )

    async def query(self, soql: str, *, all_rows: bool = False, **headers: str) -> dict[str, Any]:
        response = await self.client.get(
            f"{API}/{'queryAll' if all_rows else 'query'}/", params={"q": soql}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


async def open_org(tmp_path: Path, **config: Any) -> AsyncIterator[Org]:
    clock = Clock()
    events: list[tuple[str, list[RecordChange]]] = []

    async def publish(key: str, changes: Any) -> None:
        events.append((key, list(changes)))

    config.setdefault("token_lifetime_seconds", 30 * 86_400)  # tests move the clock by days
    # Bulk jobs wait 10 ms in the queue and then run at once, unless a test asks otherwise.
    config.setdefault(
        "knobs",
        FaultKnobs(bulk_latency_seconds=0.01, bulk_rows_per_second=0, bulk_query_rows_per_second=0),
    )
    settings = SandboxConfig(data_dir=tmp_path / "org", instance_url=BASE, **config)
    app = create_sandbox_app(settings, clock=clock, publish=publish)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            token = await client.post(
                "/services/oauth2/token",
                data={
                    "grant_type": "password",
                    "client_id": settings.client_id,
                    "client_secret": settings.client_secret,
                    "username": settings.username,
                    "password": settings.password,
                },
            )
            access = token.json()["access_token"]
            client.headers["Authorization"] = f"Bearer {access}"
            yield Org(app, settings, client, clock, events, access)


@pytest.fixture
async def org(tmp_path: Path) -> AsyncIterator[Org]:
    """A fresh, empty sandbox org."""
    async for handle in open_org(tmp_path):
        yield handle
