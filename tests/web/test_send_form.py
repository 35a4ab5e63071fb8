"""The send form for every channel, in process: each channel's own fields become the request
the channel rules check, a refused field shows the seed's ``messageStatus`` text beside it,
and all nine messages go through the sandbox provider."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from fastapi import FastAPI

from peoplesync.messaging.hook_urls import hook_urls
from peoplesync.messaging.outbox import Outbox
from peoplesync.messaging.provider import Provider
from peoplesync.messaging.providers.infobip.client import InfobipProvider, RetryPolicy
from peoplesync.messaging.sender import Sender
from peoplesync.messaging.tables import outbound_messages
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.sandbox.provider.app import create_provider_app
from peoplesync.sandbox.provider.config import ProviderConfig
from peoplesync.secret_box import SecretBox
from peoplesync.web.app import create_app
from peoplesync.web.send_form import CHANNELS, FIELDS
from tests.services import services_on
from tests.web.conftest import ADMIN_EMAIL, BASE_URL, FAST_HASHER, ClientFactory, Users
from tests.web.test_messages_pages import SANDBOX_KEY, SANDBOX_URL, SandboxClock, _post
from tests.web.test_pages import csrf_of, log_in

SEND = "/messages/send"


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(Fernet.generate_key())


@pytest.fixture
def app(store: SqlPeopleStore, box: SecretBox, tmp_path: Path) -> FastAPI:
    return create_app(services_on(store, tmp_path / "data", box=box), password_hasher=FAST_HASHER)


@pytest.fixture
async def browser(client: ClientFactory, users: Users) -> AsyncIterator[httpx.AsyncClient]:
    async with client() as http:
        assert (await log_in(http, ADMIN_EMAIL)).status_code == 303
        yield http


# Per channel: the form's inputs, and what the queued request must hold.
FORMS: dict[str, tuple[dict[str, str], dict[str, Any]]] = {
    "sms": (
        {
            "to": "+385 91 234 5601",
            "sms-text": "Merhaba",
            "sms-language": "TR",
            "sms-transliteration": "TURKISH",
        },
        {"text": "Merhaba", "language": "TR", "transliteration": "TURKISH"},
    ),
    "lms": (
        {"to": "821012345601", "lms-title": "Sale", "lms-text": "Long text"},
        {"title": "Sale", "text": "Long text"},
    ),
    "mms": (
        {
            "to": "14155550101",
            "mms-title": "Photo",
            "mms-mediaUrl": "https://cdn.example.com/a.jpg",
        },
        {"title": "Photo", "media": [{"url": "https://cdn.example.com/a.jpg"}]},
    ),
    "rcs": (
        {
            "to": "447700900101",
            "from": "Brand",
            "rcs-type": "CARD",
            "rcs-cardTitle": "New",
            "rcs-suggestions": "REPLY | Yes\nOPEN_URL | Open | https://example.com\n"
            "SHOW_LOCATION | Map | 45.8 | 15.9",
        },
        {
            "type": "CARD",
            "card": {"title": "New"},
            "suggestions": [
                {"type": "REPLY", "text": "Yes"},
                {"type": "OPEN_URL", "text": "Open", "url": "https://example.com"},
                {"type": "SHOW_LOCATION", "text": "Map", "latitude": 45.8, "longitude": 15.9},
            ],
        },
    ),
    "viber": (
        {
            "to": "385912345601",
            "from": "Brand",
            "viber-text": "Hi",
            "viber-buttonText": "Open",
            "viber-buttonUrl": "https://example.com/",
            "viber-isPromotional": "on",
        },
        {"text": "Hi", "buttonText": "Open", "isPromotional": True},
    ),
    "whatsapp": (
        {
            "to": "385912345602",
            "from": "447860099299",
            "whatsapp-templateName": "welcome_2",
            "whatsapp-templateLanguage": "en_GB",
            "whatsapp-placeholders": "Ana\nZagreb",
        },
        {
            "templateName": "welcome_2",
            "templateLanguage": "en_GB",
            "placeholders": ["Ana", "Zagreb"],
        },
    ),
    "kakao-alim": (
        {
            "to": "821012345602",
            "from": "OFFICIAL-ID",
            "kakao-alim-templateName": "TPL001",
            "kakao-alim-text": "Shipped",
            "kakao-alim-buttons": "URL | Track | https://m.example.com/t\n"
            "APP_LINK | Open app | app://x | app://y\nDELIVERY_TRACKING | Where",
        },
        {
            "templateName": "TPL001",
            "buttons": [
                {"type": "URL", "name": "Track", "urlMobile": "https://m.example.com/t"},
                {
                    "type": "APP_LINK",
                    "name": "Open app",
                    "schemeAndroid": "app://x",
                    "schemeIos": "app://y",
                },
                {"type": "DELIVERY_TRACKING", "name": "Where"},
            ],
        },
    ),
    "kakao-chingu": (
        {
            "to": "821012345603",
            "from": "OFFICIAL-ID",
            "kakao-chingu-text": "New season",
            "kakao-chingu-imageUrl": "https://cdn.example.com/k.jpg",
            "kakao-chingu-imageLink": "https://example.com/p",
            "kakao-chingu-buttons": "URL | Shop | https://m.example.com",
        },
        {
            "imageUrl": "https://cdn.example.com/k.jpg",
            "imageLink": "https://example.com/p",
            "buttons": [{"type": "URL", "name": "Shop", "urlMobile": "https://m.example.com"}],
        },
    ),
    "zalo": (
        {
            "to": "84912345601",
            "from": "zalo-oa-1",
            "zalo-templateName": "3366070982",
            "zalo-placeholders": "customer_name = An\norder = 42",
        },
        {"templateName": "3366070982", "placeholders": {"customer_name": "An", "order": "42"}},
    ),
}
# Per channel: a bad input, the input the error shows beside, and the seed's text.
REFUSED: list[tuple[str, dict[str, str], str, str]] = [
    ("sms", {"sms-text": ""}, "sms-text", "Error: Invalid text length"),
    ("lms", {"lms-title": "x" * 200}, "lms-title", "Error: Invalid title length"),
    ("mms", {"mms-mediaUrl": "ftp://x"}, "mms-mediaUrl", "Error: Invalid media"),
    (
        "rcs",
        {"rcs-suggestions": "OPEN_URL | Open"},
        "rcs-suggestions",
        "Error: Invalid suggestions",
    ),
    ("viber", {"viber-buttonUrl": "nope"}, "viber-buttonUrl", "Error: Invalid button url length"),
    (
        "whatsapp",
        {"whatsapp-templateName": "Bad Name"},
        "whatsapp-templateName",
        "Error: Invalid template name",
    ),
    (
        "kakao-alim",
        {"kakao-alim-buttons": "URL | "},
        "kakao-alim-buttons",
        "Error: Invalid button text length",
    ),
    (
        "kakao-chingu",
        {"kakao-chingu-buttons": "DELIVERY_TRACKING | Where"},
        "kakao-chingu-buttons",
        "Error: Invalid buttons field length",
    ),
    ("zalo", {"zalo-templateName": "abc"}, "zalo-templateName", "Error: Invalid template name"),
    ("viber", {"from": ""}, "from", "Error: Invalid from field"),
]


async def _account(browser: httpx.AsyncClient) -> None:
    providers = "/messaging/providers"
    added = await _post(
        browser, providers, providers, name="sandbox", base_url=SANDBOX_URL, api_key=SANDBOX_KEY
    )
    assert added.status_code == 303, added.text


def test_the_table_covers_every_channel() -> None:
    assert set(FORMS) == set(CHANNELS) and {c for c, *_ in REFUSED} == set(CHANNELS)


async def test_each_channel_shows_only_its_own_fields(
    browser: httpx.AsyncClient,
) -> None:
    await _account(browser)
    every = {f.input_name(c) for c, fields in FIELDS.items() for f in fields}
    for channel in CHANNELS:
        page = await browser.get(SEND, params={"channel": channel})
        assert page.status_code == 200
        form = page.text.split('id="send-form"')[1].split("</form>")[0]
        assert f'data-fields-of="{channel}"' in form
        names = {n.split('"')[0] for n in form.split('name="')[1:]}
        assert names & every == {f.input_name(channel) for f in FIELDS[channel]}
        assert {"account", "channel", "to", "from"} <= names


@pytest.mark.parametrize(("channel", "bad", "field", "status"), REFUSED)
async def test_a_refused_field_shows_the_seeds_text_beside_it(
    browser: httpx.AsyncClient, channel: str, bad: dict[str, str], field: str, status: str
) -> None:
    await _account(browser)
    inputs = FORMS[channel][0] | bad
    refused = await _post(
        browser, f"{SEND}?channel={channel}", SEND, account="sandbox", channel=channel, **inputs
    )
    assert refused.status_code == 422, refused.text[:300]
    beside = refused.text.split(f'data-error-for="{field}">')[1].split("</span>")[0]
    assert beside.startswith(status), beside
    assert f'data-fields-of="{channel}"' in refused.text  # the same channel's form again


async def test_every_channel_sent_from_the_form_reaches_the_sandbox_provider(
    browser: httpx.AsyncClient,
    app: FastAPI,
    store: SqlPeopleStore,
    box: SecretBox,
    tmp_path: Path,
) -> None:
    await _account(browser)
    outbox = Outbox(store.engine, store.clock)
    ids = {}
    for channel, (inputs, expected) in FORMS.items():
        sent = await _post(
            browser,
            f"{SEND}?channel={channel}",
            SEND,
            account="sandbox",
            channel=channel,
            **inputs,
        )
        assert sent.status_code == 303, (channel, sent.text[:2000])
        message_id = sent.headers["location"].removeprefix("/messages/").split("?")[0]
        queued = await outbox.get(message_id)
        assert queued is not None and queued.channel == channel
        assert {k: queued.request.get(k) for k in expected} == expected, channel
        ids[channel] = message_id
    config = ProviderConfig(tmp_path / "provider", SANDBOX_KEY, seed=1)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL
    ) as hooks:
        sandbox = create_provider_app(
            config, clock=SandboxClock(), webhook_client=hooks, run_reports=False
        )
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
            done = await Sender(outbox, provider, webhooks, store.clock).run_once()
            assert (done.accepted, done.rejected, done.retried) == (9, 0, 0)
            stored = await sandbox.state.provider.store.recent(20)
    # LMS goes out on the SMS endpoint (with South Korea's options)
    on_wire = {i: "sms" if c == "lms" else c for c, i in ids.items()}
    assert {m.message_id: m.channel for m in stored} == on_wire


async def test_submitting_the_same_form_twice_queues_one_message(
    browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    await _account(browser)
    page = await browser.get(SEND, params={"channel": "sms"})
    token = page.text.split('name="send_token" value="')[1].split('"')[0]
    assert len(token) == 32
    other = await browser.get(SEND, params={"channel": "sms"})
    assert token not in other.text  # each form shown has its own
    form = {
        "csrf_token": csrf_of(page.text),
        "send_token": token,
        "account": "sandbox",
        "channel": "sms",
        "to": "+385 91 234 5601",
        "sms-text": "Hello once",
    }
    # a refused submit stores nothing and keeps the token: the corrected form sends once
    refused = await browser.post(SEND, data=form | {"sms-text": ""})
    assert refused.status_code == 422 and f'value="{token}"' in refused.text
    first = await browser.post(SEND, data=form)
    second = await browser.post(SEND, data=form)
    assert first.status_code == second.status_code == 303
    assert second.headers["location"] == first.headers["location"]  # the first's result
    shown = await browser.get(second.headers["location"])
    assert shown.status_code == 200 and "Hello once" in shown.text
    async with store.engine.connect() as conn:
        count = await conn.execute(sa.select(sa.func.count()).select_from(outbound_messages))
        assert count.scalar() == 1
    fresh = await browser.post(SEND, data=form | {"send_token": ""})  # an older form: no token
    assert fresh.headers["location"] != first.headers["location"]


async def test_a_person_people_does_not_hold_is_told_and_nothing_is_queued(
    browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    await _account(browser)
    unknown = "0" * 32
    refused = await _post(
        browser,
        f"{SEND}?person={unknown}&to=%2B385912345601",
        SEND,
        account="sandbox",
        channel="sms",
        person_id=unknown,
        to="+385 91 234 5601",
        **{"sms-text": "Hi"},
    )
    assert refused.status_code == 422, refused.text[:300]
    assert f"no person has the id &#39;{unknown}&#39;" in refused.text
    async with store.engine.connect() as conn:
        queued = await conn.execute(sa.select(sa.func.count()).select_from(outbound_messages))
        assert queued.scalar_one() == 0
