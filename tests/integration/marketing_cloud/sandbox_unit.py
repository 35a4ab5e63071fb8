"""The Marketing Cloud sandbox in process (``httpx.ASGITransport``) with a client on it and a
clock both can be moved by; sleeps are recorded instead of waited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from starlette.applications import Starlette

from peoplesync.marketing_cloud.client import MarketingCloudClient, RetryPolicy
from peoplesync.sandbox.marketing_cloud.app import create_marketing_cloud_app
from peoplesync.sandbox.marketing_cloud.config import Knobs, SandboxConfig

BASE = "https://mc.test"
CLIENT_ID = "sandbox-client"
SECRET = "sandbox-secret-never-shown"
MID = "510000042"


class MovableClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class SandboxUnit:
    app: Starlette
    http: httpx.AsyncClient
    client: MarketingCloudClient
    clock: MovableClock
    sleeps: list[float] = field(default_factory=list)

    @property
    def knobs(self) -> Knobs:
        knobs: Knobs = self.app.state.sandbox.knobs
        return knobs

    async def raw_token(self) -> str:
        answer = await self.http.post(
            f"{BASE}/v2/token",
            json={
                "grant_type": "client_credentials",
                "client_id": CLIENT_ID,
                "client_secret": SECRET,
                "account_id": MID,
            },
        )
        return str(answer.json()["access_token"])


def sandbox_config(data_dir: Path, **knobs: int) -> SandboxConfig:
    return SandboxConfig(
        data_dir=data_dir,
        client_id=CLIENT_ID,
        client_secret=SECRET,
        jwt_secret="jwt",
        mid=MID,
        knobs=Knobs(**knobs),
    )


@asynccontextmanager
async def sandbox_unit(
    data_dir: Path, *, secret: str = SECRET, attempts: int = 6, **knobs: int
) -> AsyncIterator[SandboxUnit]:
    clock = MovableClock()
    app = create_marketing_cloud_app(sandbox_config(data_dir, **knobs), clock)
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http,
    ):
        client = MarketingCloudClient(
            f"{BASE}/",
            CLIENT_ID,
            secret,
            MID,
            http,
            retry=RetryPolicy(attempts=attempts),
            sleep=sleep,
            clock=clock,
        )
        yield SandboxUnit(app, http, client, clock, sleeps)
