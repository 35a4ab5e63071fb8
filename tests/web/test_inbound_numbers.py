"""Inbound numbers on the web app and the REST API, against the sandbox provider in process:
check a number, take the one action its state allows, a wrong action answers 409."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from peoplesync.messaging.providers.infobip.inbound_config import PATH, forward_body
from peoplesync.sandbox.provider.app import create_provider_app
from peoplesync.sandbox.provider.config import ProviderConfig
from tests.web.conftest import ADMIN_EMAIL, BASE_URL, ClientFactory, Users
from tests.web.test_pages import csrf_of, log_in

KEY = "inbound-web-key"
SANDBOX = "https://provider.test"
NUMBER = "385981000123"


@pytest.fixture
async def sandbox(app: FastAPI, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox provider in process; the web app reaches it through this client."""
    provider = create_provider_app(ProviderConfig(tmp_path / "provider", KEY), run_reports=False)
    async with (
        provider.router.lifespan_context(provider),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=provider), base_url=SANDBOX) as http,
    ):
        app.state.inbound_numbers.http = http
        yield http


@pytest.fixture
async def browser(client: ClientFactory, users: Users) -> AsyncIterator[httpx.AsyncClient]:
    async with client() as http:
        assert (await log_in(http, ADMIN_EMAIL)).status_code == 303
        yield http


async def _account(admin: httpx.AsyncClient) -> None:
    body = {"name": "main", "base_url": SANDBOX, "api_key": KEY}
    assert (await admin.post("/api/v1/provider-accounts", json=body)).status_code == 201


async def test_check_then_create_then_remove_on_the_page(
    browser: httpx.AsyncClient, admin: httpx.AsyncClient, sandbox: httpx.AsyncClient
) -> None:
    await _account(admin)
    account = await browser.get("/messaging/providers/main")
    assert 'href="/messaging/providers/main/inbound"' in account.text
    page = "/messaging/providers/main/inbound"
    empty = await browser.get(page)
    assert empty.status_code == 200 and "number-state" not in empty.text
    assert "data-guessed-url" in empty.text  # no public URL configured in these tests

    checked = await browser.get(page, params={"number": f"+{NUMBER}"})
    assert 'data-state="not_configured"' in checked.text
    assert "Create configuration" in checked.text
    done = await browser.post(
        page,
        data={"csrf_token": csrf_of(checked.text), "number": NUMBER, "channel": "sms",
              "action": "create"},
    )  # fmt: skip
    assert done.status_code == 303
    shown = await browser.get(done.headers["location"])
    assert "Done: Create configuration." in shown.text
    assert 'data-state="ours"' in shown.text
    assert f"{BASE_URL}/hooks/messaging/main/inbound</code>" in shown.text  # no token shown

    stale = await browser.post(
        page,
        data={"csrf_token": csrf_of(shown.text), "number": NUMBER, "channel": "sms",
              "action": "create"},
    )  # a second tab's old button  # fmt: skip
    assert stale.status_code == 422
    assert "already forwards its replies to peoplesync" in stale.text
    assert 'data-state="ours"' in stale.text  # and the page shows the state as it is

    bad = await browser.get(page, params={"number": "call me"})
    assert bad.status_code == 422 and "is not a phone number" in bad.text


async def test_rest_api_reads_and_changes_a_number(
    admin: httpx.AsyncClient, viewer: httpx.AsyncClient, sandbox: httpx.AsyncClient
) -> None:
    await _account(admin)
    url = f"/api/v1/provider-accounts/main/inbound-numbers/{NUMBER}"
    await sandbox.post(
        PATH,
        json=forward_body(NUMBER, "SMS", "https://other.example.com/mo"),
        headers={"Authorization": f"App {KEY}"},
    )
    read = await viewer.get(url)
    assert read.json()["state"] == "elsewhere" and read.json()["action"] == "use-default"
    assert (await viewer.post(url, json={"action": "use-default"})).status_code == 403
    wrong = await admin.post(url, json={"action": "create"})
    assert wrong.status_code == 409
    assert wrong.json()["error"]["field"] == "action"
    assert "use-default" in wrong.json()["error"]["hint"]
    taken = await admin.post(url, json={"action": "use-default"})
    assert taken.status_code == 200 and taken.json()["state"] == "ours"
    missing = await admin.get("/api/v1/provider-accounts/nobody/inbound-numbers/385981000123")
    assert missing.status_code == 404
    schema = (await admin.get("/api/v1/openapi.json")).json()
    assert "/provider-accounts/{name}/inbound-numbers/{number}" in schema["paths"]
