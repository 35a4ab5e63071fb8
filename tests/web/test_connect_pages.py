"""Apps -> Salesforce: the connect form, the OAuth callback against the served sandbox org
(real HTTPS, real consent page), the integration list and their REST twins."""

from __future__ import annotations

import html
import re
import ssl
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI

from peoplesync.clock import ManualClock
from peoplesync.people.model import ExternalLink
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.secret_box import SecretBox
from peoplesync.sync.integration import load_integration
from peoplesync.sync.status.state import paused
from peoplesync.sync.status.store import StatusStore
from peoplesync.web.app import create_app
from peoplesync.web.salesforce_connect import Connector
from tests.served_org import served_org
from tests.services import services_on
from tests.web.conftest import ADMIN_EMAIL, FAST_HASHER, VIEWER_EMAIL, ClientFactory, Users
from tests.web.test_pages import csrf_of, log_in

Org = dict[str, Any]
BOX = SecretBox(Fernet.generate_key())


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    """The sandbox org served over HTTPS (one for the module)."""
    with served_org(tmp_path_factory.mktemp("org"), "--seed-leads", "5") as info:
        yield info


@pytest.fixture
def connected_names() -> list[str]:
    return []


@pytest.fixture
def app(store: SqlPeopleStore, connected_names: list[str], tmp_path: Path) -> FastAPI:
    """The web app with a connector (as `peoplesync serve` builds it)."""

    async def heard(name: str) -> None:
        connected_names.append(name)

    connector = Connector(BOX, store.clock, on_connected=heard)
    return create_app(
        services_on(store, tmp_path / "data"), password_hasher=FAST_HASHER, connector=connector
    )


async def browser(client: ClientFactory, email: str) -> httpx.AsyncClient:
    http = client()
    assert (await log_in(http, email)).status_code == 303
    return http


def connect_form(org: Org, csrf: str, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "name": "default",
        "environment": "custom",
        "login_url": org["login_url"],
        "ca_cert": org["ca_cert"],
        "client_id": org["client_id"],
        "client_secret": org["client_secret"],
        **changes,
    }


async def start(http: httpx.AsyncClient, org: Org, **changes: str) -> httpx.Response:
    page = await http.get("/salesforce/connect")
    assert page.status_code == 200
    return await http.post(
        "/salesforce/connect", data=connect_form(org, csrf_of(page.text), **changes)
    )


async def consent(org: Org, authorize_url: str, decision: str) -> str:
    """The person's browser at the org: the consent page, then Allow or Deny; returns where
    the org redirects (our callback)."""
    trust = ssl.create_default_context(cafile=org["ca_cert"])
    async with httpx.AsyncClient(verify=trust) as at_org:
        page = await at_org.get(authorize_url)
        assert page.status_code == 200 and "Allow access?" in page.text
        fields = {
            html.unescape(k): html.unescape(v)
            for k, v in re.findall(r'type="hidden" name="([^"]*)" value="([^"]*)"', page.text)
        }
        answer = await at_org.post(
            authorize_url.split("?")[0], data={**fields, "decision": decision}
        )
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith("https://peoplesync.test/oauth/salesforce/callback?")
    return location


async def test_admin_connects_through_the_org_consent_page(
    client: ClientFactory,
    users: Users,
    org: Org,
    store: SqlPeopleStore,
    admin: httpx.AsyncClient,
    connected_names: list[str],
) -> None:
    http = await browser(client, ADMIN_EMAIL)
    form = await http.get("/salesforce/connect")
    assert "form-action 'self' https:" in form.headers["content-security-policy"]
    assert "https://peoplesync.test/oauth/salesforce/callback" in form.text
    started = await start(http, org)
    assert started.status_code == 303, started.text
    authorize = started.headers["location"]
    assert authorize.startswith(org["login_url"] + "/services/oauth2/authorize?")
    assert "code_challenge_method=S256" in authorize

    callback = await consent(org, authorize, "allow")
    landed = await http.get(callback)
    assert landed.status_code == 303, landed.text
    assert landed.headers["location"] == "/salesforce?connected=default"
    assert connected_names == ["default"]

    stored = await store.get_state("integration:default")
    assert stored is not None
    assert stored["instance_url"] == org["instance_url"]
    assert stored["refresh_token"] and not stored["refresh_token"].startswith("5Aep")  # sealed
    assert org["client_secret"] not in str(stored)
    integration = await load_integration(store, BOX)
    assert integration.refresh_token and integration.refresh_token.startswith("5Aep")
    assert integration.ca_cert == str(Path(org["ca_cert"]).resolve())

    listed = await http.get("/salesforce?connected=default")
    assert listed.status_code == 200
    assert 'data-connected="default"' in listed.text
    assert 'data-state="active"' in listed.text
    assert "/salesforce/status?name=default" in listed.text
    assert all(
        f"/salesforce/default/{page}" in listed.text for page in ("steps", "transfer", "log")
    )
    assert org["instance_url"] in listed.text
    status = await http.get("/salesforce/status?name=default")
    assert "connect" in status.text  # the operation log says who connected

    # single use: the same answer a second time is refused
    again = await http.get(callback)
    assert again.status_code == 400
    assert "unknown, expired or was used already" in again.text

    api = (await admin.get("/api/v1/integrations")).json()["items"]
    assert [(i["name"], i["state"], i["instance_url"]) for i in api] == [
        ("default", "active", org["instance_url"])
    ]
    await http.aclose()


async def test_denied_consent_and_a_bad_client_id_are_shown_clearly(
    client: ClientFactory, users: Users, org: Org, store: SqlPeopleStore
) -> None:
    http = await browser(client, ADMIN_EMAIL)
    started = await start(http, org)
    denied = await http.get(await consent(org, started.headers["location"], "deny"))
    assert denied.status_code == 403
    assert "Salesforce did not grant access (access_denied" in denied.text
    assert 'href="/salesforce/connect"' in denied.text
    assert await store.get_state("integration:default") is None

    bad = await start(http, org, client_id="3MVG9-unknown")
    assert bad.status_code == 422
    assert 'data-error-for="client_id"' in bad.text
    assert "does not know this client id" in bad.text
    assert org["client_secret"] not in bad.text

    unreachable = await start(http, org, login_url="https://127.0.0.1:9")
    assert unreachable.status_code == 422
    assert 'data-error-for="login_url"' in unreachable.text
    assert "cannot reach https://127.0.0.1:9" in unreachable.text

    plain = await start(http, org, login_url="http://org.example")
    assert plain.status_code == 422 and "https://" in plain.text

    no_ca = await start(http, org, ca_cert="")
    assert no_ca.status_code == 422 and "certificate is not trusted" in no_ca.text
    await http.aclose()


async def test_the_answer_is_bound_to_the_session_and_expires(
    client: ClientFactory, users: Users, org: Org, accounts: Any, clock: ManualClock
) -> None:
    first = await browser(client, ADMIN_EMAIL)
    other = await browser(client, ADMIN_EMAIL)  # the same admin, another browser
    started = await start(first, org)
    callback = await consent(org, started.headers["location"], "allow")
    stolen = await other.get(callback)
    assert stolen.status_code == 400
    assert "belongs to another login session" in stolen.text

    started = await start(first, org)
    callback = await consent(org, started.headers["location"], "allow")
    clock.advance(timedelta(minutes=11))
    late = await first.get(callback)
    assert late.status_code == 400 and "expired" in late.text
    await first.aclose()
    await other.aclose()


async def test_bad_state_is_a_400_page_without_logging_in(
    anonymous: httpx.AsyncClient, users: Users
) -> None:
    bad = await anonymous.get("/oauth/salesforce/callback?code=abc&state=forged")
    assert bad.status_code == 400
    assert "unknown, expired or was used already" in bad.text
    missing = await anonymous.get("/oauth/salesforce/callback")
    assert missing.status_code == 400


async def test_anonymous_and_viewers_cannot_connect(
    client: ClientFactory,
    users: Users,
    anonymous: httpx.AsyncClient,
    viewer: httpx.AsyncClient,
    org: Org,
) -> None:
    for path in ("/salesforce", "/salesforce/connect", "/apps"):
        page = await anonymous.get(path)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert (await anonymous.get("/api/v1/integrations")).status_code == 401
    body = {"environment": "custom", "login_url": org["login_url"], "client_id": "x"}
    assert (await anonymous.post("/api/v1/integrations/connect", json=body)).status_code == 401
    refused = await viewer.post("/api/v1/integrations/connect", json=body)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "FORBIDDEN"
    assert (await viewer.get("/api/v1/integrations")).status_code == 200

    http = await browser(client, VIEWER_EMAIL)
    form = await http.get("/salesforce/connect")
    assert form.status_code == 200 and "Only admins can connect" in form.text
    posted = await http.post("/salesforce/connect", data=connect_form(org, csrf_of(form.text)))
    assert posted.status_code == 403
    listed = await http.get("/salesforce")
    assert "Add integration" not in listed.text
    await http.aclose()


async def test_api_starts_a_connection_the_same_user_completes_in_a_browser(
    client: ClientFactory, users: Users, admin: httpx.AsyncClient, org: Org
) -> None:
    body = {
        "environment": "custom",
        "login_url": org["login_url"],
        "ca_cert": org["ca_cert"],
        "client_id": org["client_id"],
        "client_secret": org["client_secret"],
        "name": "eu-org",
    }
    started = await admin.post("/api/v1/integrations/connect", json=body)
    assert started.status_code == 201, started.text
    reply = started.json()
    assert reply["redirect_uri"] == "https://peoplesync.test/oauth/salesforce/callback"
    assert f"state={reply['state']}" in reply["authorize_url"]
    callback = await consent(org, reply["authorize_url"], "allow")
    http = await browser(client, ADMIN_EMAIL)
    done = await http.get(callback)
    assert done.status_code == 303 and done.headers["location"] == "/salesforce?connected=eu-org"
    names = [i["name"] for i in (await admin.get("/api/v1/integrations")).json()["items"]]
    assert names == ["eu-org"]

    bad = await admin.post(
        "/api/v1/integrations/connect", json={**body, "name": "eu-2", "client_id": "nope"}
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "client_id"
    wrong = await admin.post("/api/v1/integrations/connect", json={**body, "environment": "moon"})
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "environment"
    # a login URL with production is a contradiction named as such, not a try of production
    both = await admin.post(
        "/api/v1/integrations/connect", json={**body, "name": "eu-3", "environment": "production"}
    )
    assert both.status_code == 422 and both.json()["error"]["field"] == "login_url"
    assert "only with environment custom" in both.json()["error"]["message"]
    # a login URL alone means a custom login URL
    alone = {key: value for key, value in body.items() if key != "environment"}
    implied = await admin.post("/api/v1/integrations/connect", json={**alone, "name": "eu-4"})
    assert implied.status_code == 201, implied.text
    assert implied.json()["authorize_url"].startswith(org["login_url"])
    await http.aclose()


async def test_openapi_document_lists_the_integration_endpoints(
    anonymous: httpx.AsyncClient,
) -> None:
    paths = (await anonymous.get("/api/v1/openapi.json")).json()["paths"]
    assert "get" in paths["/integrations"]
    assert "post" in paths["/integrations/connect"]


async def test_list_shows_state_and_person_links_use_the_instance_url(
    client: ClientFactory, users: Users, store: SqlPeopleStore, clock: ManualClock
) -> None:
    await store.set_state(
        "integration:default",
        {
            "login_url": "https://login.salesforce.com",
            "instance_url": "https://acme.my.salesforce.com",
        },
    )
    statuses = StatusStore(store.engine, clock)
    await statuses.transition("default", lambda s: paused(s, clock.now()))
    ada = await client_person(store)
    http = await browser(client, ADMIN_EMAIL)
    listed = await http.get("/salesforce")
    assert 'data-state="paused"' in listed.text
    person = await http.get(f"/people/{ada}")
    assert "https://acme.my.salesforce.com/00Q000000000009AAA" in person.text
    assert "https://login.salesforce.com/00Q" not in person.text
    await http.aclose()


async def client_person(store: SqlPeopleStore) -> str:
    from peoplesync.people.model import PersonInput

    result = await store.upsert_persons(
        [PersonInput(values={"first_name": "Ada", "last_name": "Byron"}, emails=["a@b.example"])],
        origin="test",
    )
    ada = result.ids[0]
    assert ada is not None
    await store.save_links(
        [ExternalLink("person", ada, "salesforce:default", "Lead", "00Q000000000009AAA")]
    )
    return ada


async def test_without_a_connector_connecting_is_a_clear_409(
    store: SqlPeopleStore, users: Users, tmp_path: Path
) -> None:
    bare = create_app(services_on(store, tmp_path / "data"), password_hasher=FAST_HASHER)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=bare), base_url="https://peoplesync.test"
    ) as http:
        bad = await http.get("/oauth/salesforce/callback?state=x&code=y")
        assert bad.status_code == 409
        assert "peoplesync serve" in bad.text
