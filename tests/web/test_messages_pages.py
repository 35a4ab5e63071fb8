"""The Messaging pages in process: add a provider account (empty and bad forms first), sender
names, an SMS sent from the form through the sandbox provider, its delivery report on the
message's trail, the Messages list filters, and the person page's Messages panel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI

from peoplesync.messaging.hook_urls import hook_urls
from peoplesync.messaging.outbox import Outbox
from peoplesync.messaging.provider import Provider
from peoplesync.messaging.providers.infobip.client import InfobipProvider, RetryPolicy
from peoplesync.messaging.sender import Sender
from peoplesync.people.model import PersonInput
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.sandbox.provider.app import create_provider_app
from peoplesync.sandbox.provider.config import ProviderConfig
from peoplesync.secret_box import SecretBox
from peoplesync.web.app import create_app
from tests.services import services_on
from tests.web.conftest import ADMIN_EMAIL, BASE_URL, VIEWER_EMAIL, ClientFactory, Users
from tests.web.test_pages import csrf_of, log_in

SANDBOX_KEY = "sandbox-pages-key"
SANDBOX_URL = "https://provider.test"


class SandboxClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(Fernet.generate_key())


@pytest.fixture
def app(store: SqlPeopleStore, box: SecretBox, tmp_path: Path) -> FastAPI:
    from tests.web.conftest import FAST_HASHER

    return create_app(services_on(store, tmp_path / "data", box=box), password_hasher=FAST_HASHER)


@pytest.fixture
async def browser(client: ClientFactory, users: Users) -> AsyncIterator[httpx.AsyncClient]:
    async with client() as http:
        assert (await log_in(http, ADMIN_EMAIL)).status_code == 303
        yield http


async def _post(http: httpx.AsyncClient, page: str, action: str, **data: str) -> httpx.Response:
    form = await http.get(page)
    return await http.post(action, data={"csrf_token": csrf_of(form.text), **data})


async def _send_and_report(
    app: FastAPI, store: SqlPeopleStore, box: SecretBox, data_dir: Path
) -> list[Any]:
    """One send round through the sandbox provider (in process), then its due reports posted
    to the app; returns what the sandbox stored."""
    clock = SandboxClock()
    config = ProviderConfig(data_dir, SANDBOX_KEY, seed=1)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL
    ) as hooks:
        sandbox = create_provider_app(config, clock=clock, webhook_client=hooks, run_reports=False)
        async with (
            sandbox.router.lifespan_context(sandbox),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=sandbox), base_url=SANDBOX_URL
            ) as http,
        ):
            accounts = await app.state.messaging.accounts.infobip_accounts()
            provider: dict[str, Provider] = {
                "sandbox": InfobipProvider(accounts["sandbox"], http, retry=RetryPolicy(1))
            }
            webhooks = {"sandbox": hook_urls(BASE_URL, box, "sandbox")}
            outbox = Outbox(store.engine, store.clock)
            done = await Sender(outbox, provider, webhooks, store.clock).run_once()
            assert done.accepted == 1
            clock.now += 2
            assert await sandbox.state.provider.reports.dispatch_due() == 1
            stored: list[Any] = await sandbox.state.provider.store.recent(5)
            return stored


async def test_an_empty_or_bad_provider_form_names_its_fields(browser: httpx.AsyncClient) -> None:
    page = "/messaging/providers"
    empty = await _post(browser, page, page, name="", base_url="", api_key="")
    assert empty.status_code == 422
    assert 'data-error-for="name"' in empty.text
    bad = await _post(browser, page, page, name="main", base_url="api.example", api_key="s3cr3t")
    assert bad.status_code == 422
    assert 'data-error-for="base_url"' in bad.text and "is not an http(s) address" in bad.text
    assert "s3cr3t" not in bad.text  # the key is never sent back
    good = await _post(
        browser, page, page, name="main", base_url="https://a.example.com", api_key="s3cr3t"
    )
    assert (good.status_code, good.headers["location"]) == (303, "/messaging/providers/main")
    taken = await _post(
        browser, page, page, name="main", base_url="https://b.example.com", api_key="k"
    )
    assert taken.status_code == 422 and "exists" in taken.text
    listed = await browser.get(page)
    assert 'data-account="main"' in listed.text and "s3cr3t" not in listed.text


async def test_a_viewer_sees_the_pages_but_cannot_change_them(
    client: ClientFactory, users: Users
) -> None:
    async with client() as http:
        await log_in(http, VIEWER_EMAIL)
        page = "/messaging/providers"
        assert (await http.get(page)).status_code == 200
        refused = await _post(http, page, page, name="x", base_url="https://x.test", api_key="k")
        assert refused.status_code == 403
        assert (await http.get("/messages")).status_code == 200


async def test_an_sms_sent_from_the_form_shows_its_delivery_report(
    browser: httpx.AsyncClient, app: FastAPI, store: SqlPeopleStore, box: SecretBox, tmp_path: Path
) -> None:
    created = await store.upsert_persons(
        [
            PersonInput(
                values={"first_name": "Ana", "last_name": "Horvat"},
                phones=["+385 91 123 4501"],
            )
        ],
        origin="test",
    )
    ana = created.ids[0]
    assert ana is not None
    providers = "/messaging/providers"
    added = await _post(
        browser, providers, providers, name="sandbox", base_url=SANDBOX_URL, api_key=SANDBOX_KEY
    )
    assert added.status_code == 303
    account = "/messaging/providers/sandbox"
    long = await _post(browser, account, f"{account}/senders", channel="sms", sender="x" * 16)
    assert long.status_code == 422 and 'data-error-for="sender"' in long.text
    sender = await _post(browser, account, f"{account}/senders", channel="sms", sender="PeopleSync")
    assert sender.status_code == 303
    assert 'data-sender="PeopleSync"' in (await browser.get(account)).text

    send = "/messages/send"
    refused = await _post(
        browser, send, send, account="sandbox", to="", channel="sms", **{"sms-text": "Hi"}
    )
    assert refused.status_code == 422
    assert "Error: Missing phone number in request" in refused.text
    assert 'data-error-for="to"' in refused.text
    sent = await _post(
        browser,
        f"{send}?to=%2B385911234501&person={ana}",
        send,
        account="sandbox",
        channel="sms",
        to="+385 91 123 4501",
        **{"sms-text": "Your order has shipped"},
        person_id=ana,
    )
    assert sent.status_code == 303
    message_id = sent.headers["location"].removeprefix("/messages/").split("?")[0]
    queued = await browser.get(sent.headers["location"])
    assert "Success: Message pending" in queued.text and 'data-event="queued"' in queued.text

    [stored] = await _send_and_report(app, store, box, tmp_path / "provider")
    assert stored.sender == "PeopleSync"  # the account's default SMS sender

    trail = await browser.get(f"/messages/{message_id}")
    for kind in ("queued", "sent", "delivered"):
        assert f'data-event="{kind}"' in trail.text
    assert "DELIVERED_TO_HANDSET" in trail.text and f'href="/people/{ana}"' in trail.text
    person = await browser.get(f"/people/{ana}")
    panel = person.text.split('id="person-messages"')[1].split("</section>")[0]
    assert f'data-message="{message_id}"' in panel and 'data-state="delivered"' in panel
    assert 'data-event="sent"' in panel and 'data-event="delivered"' in panel

    only_delivered = await browser.get("/messages", params={"state": "delivered"})
    assert (
        f'data-message="{message_id}"' in only_delivered.text
        and "Ana Horvat" in only_delivered.text
    )
    by_number = await browser.get("/messages", params={"number": "4501"})
    assert f'data-message="{message_id}"' in by_number.text
    other = await browser.get("/messages", params={"channel": "viber"})
    assert "match these filters" in other.text
    bad = await browser.get("/messages", params={"number": "abc"})
    assert bad.status_code == 422 and 'data-error-for="number"' in bad.text


async def test_a_failed_message_shows_the_providers_error(
    browser: httpx.AsyncClient, app: FastAPI, store: SqlPeopleStore, box: SecretBox, tmp_path: Path
) -> None:
    providers = "/messaging/providers"
    await _post(
        browser, providers, providers, name="sandbox", base_url=SANDBOX_URL, api_key=SANDBOX_KEY
    )
    send = "/messages/send"
    sent = await _post(
        browser,
        send,
        send,
        account="sandbox",
        channel="sms",
        to="+385911234591",
        **{"sms-text": "Hi"},
    )
    message_id = sent.headers["location"].removeprefix("/messages/").split("?")[0]
    waiting = await _post(
        browser, "/messaging/providers/sandbox", "/messaging/providers/sandbox/remove"
    )
    assert waiting.status_code == 409 and "data-confirm" in waiting.text
    await _send_and_report(app, store, box, tmp_path / "provider")
    trail = await browser.get(f"/messages/{message_id}")
    assert 'data-event="undeliverable"' in trail.text
    assert (
        "EC_UNKNOWN_SUBSCRIBER: Unknown Subscriber" in trail.text.split("data-provider-error>")[1]
    )
    removed = await _post(
        browser, "/messaging/providers/sandbox", "/messaging/providers/sandbox/remove", confirm="1"
    )
    assert removed.headers["location"] == "/messaging/providers?removed=sandbox"
