"""GET /{code} on the real app: 302 to the long URL, the click recorded and shown; 404 page."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from peoplesync.clock import ManualClock
from peoplesync.messaging.links.store import ShortLinks
from peoplesync.messaging.outbox import MessageDraft, Outbox
from peoplesync.people.model import PersonInput
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.secret_box import SecretBox
from peoplesync.settings import Settings
from peoplesync.web.app import create_app
from tests.services import services_on
from tests.web.conftest import BASE_URL, FAST_HASHER, ClientFactory, Users

LONG = "https://shop.example.com/sale?id=7&utm_source=sms"
IDN = "https://bücher.example/straße?q=ä"
PHONE = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)


async def _send(store: SqlPeopleStore, clock: ManualClock, text: str) -> tuple[str, list[str]]:
    outbox = Outbox(store.engine, clock, link_base=BASE_URL)
    request = {"to": "+44 20 7123 4567", "text": text, "shortenUrl": True, "trackClicks": True}
    [queued] = await outbox.enqueue([MessageDraft("k1", "main", "sms", request)])
    assert queued.status == "Success: Message pending", queued.detail
    links = await ShortLinks(store.engine, clock).links_of(queued.message_id)
    return queued.message_id, [link["short_url"].rsplit("/", 1)[1] for link in links]


async def test_a_short_link_redirects_and_its_click_reaches_reports_and_the_timeline(
    store: SqlPeopleStore, clock: ManualClock, client: ClientFactory, users: Users
) -> None:
    created = await store.upsert_persons(
        [PersonInput(emails=["ada@example.com"], phones=["+442071234567"])], origin="t"
    )
    ada = created.ids[0]
    message_id, [code, idn_code] = await _send(store, clock, f"Sale {LONG} and {IDN}")
    async with client() as http:
        answer = await http.get(f"/{code}", headers={"User-Agent": PHONE})
        assert answer.status_code == 302
        assert answer.headers["location"] == LONG
        assert answer.headers["cache-control"] == "no-store"
        idn = await http.get(f"/{idn_code}")
        assert idn.headers["location"] == "https://xn--bcher-kva.example/stra%C3%9Fe?q=%C3%A4"
    [click, _] = await ShortLinks(store.engine, clock).clicks(message_id=message_id)
    assert click.as_report() == {
        "notificationType": "CLICKED",
        "messageId": message_id,
        "recipient": "442071234567",
        "url": LONG,
        "sendDateTime": clock.now().isoformat(),
        "deviceType": "mobile",
        "os": "Android 14",
        "deviceName": "Samsung",
        "callbackData": None,
        "channel": "sms",
    }
    async with client(users.admin_token) as api:
        person = (await api.get(f"/api/v1/persons/{ada}")).json()
        trail = (await api.get(f"/api/v1/messages/{message_id}")).json()["events"]
    assert [e["kind"] for e in trail] == ["queued", "clicked", "clicked"]
    assert trail[1]["detail"]["url"] == LONG
    clicked = [e for e in person["timeline"] if e["kind"] == "message_clicked"]
    assert len(clicked) == 2
    assert clicked[0]["data"]["message_id"] == message_id


async def test_a_head_request_redirects_without_counting(
    store: SqlPeopleStore, clock: ManualClock, client: ClientFactory
) -> None:
    message_id, [code] = await _send(store, clock, f"Sale {LONG}")
    async with client() as http:
        answer = await http.head(f"/{code}", headers={"User-Agent": PHONE})
        unknown = await http.head("/Zz9Zz9Zz")
    assert (answer.status_code, answer.headers["location"]) == (302, LONG)
    assert unknown.status_code == 404
    assert await ShortLinks(store.engine, clock).clicks(message_id=message_id) == []


async def test_unknown_and_malformed_codes_get_the_apps_404_page(
    store: SqlPeopleStore, clock: ManualClock, client: ClientFactory
) -> None:
    await _send(store, clock, f"Sale {LONG}")
    async with client() as http:
        unknown = await http.get("/Zz9Zz9Zz")
        malformed = await http.get("/Zz9Zz9Z")  # seven characters: no route matches
    for page in (unknown, malformed):
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")
        assert '<link rel="stylesheet"' in page.text  # the app's own page, styled
    assert "this link does not exist" in unknown.text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/people", 303),
        ("/login", 200),
        ("/health", 200),
        ("/segments", 303),
        ("/static/app.css", 200),
    ],
)
async def test_the_redirect_shadows_no_page(client: ClientFactory, path: str, status: int) -> None:
    async with client() as http:
        answer = await http.get(path)
    assert answer.status_code == status


async def test_the_redirect_shadows_no_api_route(client: ClientFactory, users: Users) -> None:
    async with client(users.admin_token) as api:
        people = await api.get("/api/v1/persons")
        missing = await api.get("/api/v1/abcdefg1")  # a code's shape, under the API
    assert people.status_code == 200
    assert people.json()["items"] == []
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/json")


async def test_a_redirect_with_no_user_agent_still_counts(
    store: SqlPeopleStore, clock: ManualClock, client: ClientFactory
) -> None:
    message_id, [code] = await _send(store, clock, f"Sale {LONG}")
    async with client() as http:
        del http.headers["user-agent"]
        answer = await http.get(f"/{code}")
    assert answer.status_code == 302
    [click] = await ShortLinks(store.engine, clock).clicks(message_id=message_id)
    assert click.device.device_type == "unknown"


async def test_a_message_sent_through_the_rest_api_gets_short_links_on_the_public_url(
    store: SqlPeopleStore, users: Users, tmp_path: Path
) -> None:
    settings = Settings(public_url=BASE_URL, data_dir=tmp_path)
    box = SecretBox(Fernet.generate_key())
    wired = services_on(store, tmp_path, settings=settings, box=box)
    app = create_app(wired, password_hasher=FAST_HASHER)
    auth = {"Authorization": f"Bearer {users.admin_token}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=auth) as api:
        account = {"name": "main", "base_url": "https://x.api.example.com", "api_key": "k"}
        assert (await api.post("/api/v1/provider-accounts", json=account)).status_code == 201
        body = {
            "to": "+385911234567",
            "text": f"Sale {LONG}",
            "request": {"shortenUrl": True, "trackClicks": True},
        }
        sent = await api.post("/api/v1/messages", json=body)
        assert sent.status_code == 201, sent.text
        message = (await api.get(f"/api/v1/messages/{sent.json()['message_id']}")).json()
        text = message["request"]["text"]
        assert text.startswith(f"Sale {BASE_URL}/") and LONG not in text
        followed = await api.get(f"/{text.rsplit('/', 1)[1]}")
    assert (followed.status_code, followed.headers["location"]) == (302, LONG)
