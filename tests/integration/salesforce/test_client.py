"""Our Salesforce client against the sandbox org (in-process, over ASGI)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from peoplesync.salesforce.auth import Authenticator, JwtBearerCredentials, PasswordCredentials
from peoplesync.salesforce.client import RetryPolicy, SalesforceClient
from peoplesync.salesforce.failure import (
    ApiLimitReachedError,
    ReconnectNeededError,
    SalesforceRequestError,
    SalesforceUnavailableError,
)
from tests.integration.org_client import client_for
from tests.integration.sandbox.conftest import BASE, Org, open_org


@dataclass
class Harness:
    org: Org
    client: SalesforceClient
    http: httpx.AsyncClient
    sleeps: list[float]


def _recorder(sleeps: list[float]) -> Callable[[float], Awaitable[None]]:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return sleep


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    async for org in open_org(tmp_path, seed=5):
        transport = httpx.ASGITransport(app=org.app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
            sleeps: list[float] = []
            sleep = _recorder(sleeps)

            client = client_for(org, http, sleep=sleep)
            yield Harness(org, client, http, sleeps)


async def test_collections_and_paged_queries_spend_few_calls(harness: Harness) -> None:
    client = harness.client
    created = await client.create_many(
        "Lead", [{"LastName": f"L{i:03d}", "Company": "Acme"} for i in range(450)]
    )
    assert len(created) == 450
    assert all(r["success"] for r in created)
    assert client.usage.calls == 3  # 200 + 200 + 50
    names = [
        r["LastName"]
        async for r in client.query("SELECT LastName FROM Lead ORDER BY LastName", batch_size=200)
    ]
    assert names == [f"L{i:03d}" for i in range(450)]
    assert client.usage.calls == 6  # three pages
    assert await client.count("SELECT COUNT() FROM Lead") == 450
    await client.describe("Lead")
    await client.describe("Lead")
    assert client.usage.calls == 8  # describe is cached
    assert client.usage.used == client.usage.calls  # the org's own count, from Sforce-Limit-Info
    updated = await client.update_many(
        "Lead", [{"Id": r["id"], "City": "Oslo"} for r in created[:5]]
    )
    assert [r["success"] for r in updated] == [True] * 5
    deleted = await client.delete_many([r["id"] for r in created[:5]])
    assert all(r["success"] for r in deleted)
    assert await client.count("SELECT COUNT() FROM Lead") == 445


async def test_expired_session_logs_in_again_once(harness: Harness) -> None:
    harness.org.config.token_lifetime_seconds = 60
    assert (await harness.client.limits())["DailyApiRequests"]["Max"] == 100_000
    first = harness.client.session
    harness.org.clock.advance(seconds=120)
    assert (await harness.client.limits())["DailyApiRequests"]["Max"] == 100_000
    assert harness.client.session is not first


async def test_calls_side_by_side_log_in_once(harness: Harness) -> None:
    client = harness.client
    logins: list[object] = []
    login = client.authenticator.login

    async def counted() -> Any:
        logins.append(None)
        return await login()

    client.authenticator.login = counted  # type: ignore[method-assign]
    harness.org.config.token_lifetime_seconds = 60
    await asyncio.gather(*(client.limits() for _ in range(5)))
    assert len(logins) == 1
    harness.org.clock.advance(seconds=120)  # every call below finds the session expired
    answers = await asyncio.gather(*(client.limits() for _ in range(5)))
    assert all(a["DailyApiRequests"]["Max"] == 100_000 for a in answers)
    assert len(logins) == 2


async def test_transient_failures_are_retried_with_backoff(harness: Harness) -> None:
    await harness.client.limits()
    await harness.org.client.put("/sandbox/admin/knobs", json={"rate_503": 0.3})
    for _ in range(20):
        await harness.client.limits()
    assert harness.sleeps  # some calls failed and were retried
    assert all(0 <= s <= 30 for s in harness.sleeps)
    await harness.org.client.put("/sandbox/admin/knobs", json={"rate_503": 1.0})
    with pytest.raises(SalesforceUnavailableError):
        await harness.client.limits()


async def test_errors_keep_codes(harness: Harness) -> None:
    with pytest.raises(SalesforceRequestError) as caught:
        [r async for r in harness.client.query("SELECT Nope FROM Lead")]
    assert caught.value.error_code == "INVALID_FIELD"
    results = await harness.client.create_many("Lead", [{"LastName": "NoCompany"}])
    assert results[0]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"


async def test_limit_reached_stops(tmp_path: Path) -> None:
    async for org in open_org(tmp_path, api_daily_limit=2):
        transport = httpx.ASGITransport(app=org.app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
            credentials = PasswordCredentials(
                org.config.client_id,
                org.config.client_secret,
                org.config.username,
                org.config.password,
            )
            client = SalesforceClient(
                http, Authenticator(http, BASE, credentials), retry=RetryPolicy(attempts=1)
            )
            await client.limits()  # the fixture's login spent nothing; this is call 1 of 2
            await client.limits()
            with pytest.raises(ApiLimitReachedError):
                await client.limits()


async def test_revoked_credentials_need_a_reconnect_and_hide_secrets(harness: Harness) -> None:
    config = harness.org.config
    wrong = PasswordCredentials(
        config.client_id, config.client_secret, config.username, "not-the-password"
    )
    client = SalesforceClient(harness.http, Authenticator(harness.http, BASE, wrong))
    with pytest.raises(ReconnectNeededError) as caught:
        await client.limits()
    assert "not-the-password" not in str(caught.value)
    assert config.client_secret not in str(caught.value)
    assert "reconnect" in str(caught.value)
    assert "not-the-password" not in repr(wrong)


async def test_jwt_bearer_login(harness: Harness) -> None:
    config = harness.org.config
    credentials = JwtBearerCredentials(
        config.client_id,
        config.username,
        (config.data_dir / "jwt-key.pem").read_bytes(),
        audience=BASE,
    )
    client = SalesforceClient(harness.http, Authenticator(harness.http, BASE, credentials))
    assert "DailyApiRequests" in await client.limits()
