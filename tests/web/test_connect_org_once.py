"""Issue 12 in the web app: Add integration refuses an org that is connected already (and a
taken name), Reconnect renews the same integration, and a new integration's outbound steps
stay off until the user switches them on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.sync.profile.store import load_profile
from peoplesync.web.app import create_app
from peoplesync.web.salesforce_connect import Connector
from tests.served_org import served_org
from tests.services import services_on
from tests.web.conftest import ADMIN_EMAIL, FAST_HASHER, ClientFactory, Users
from tests.web.test_connect_pages import BOX, browser, connect_form, consent
from tests.web.test_pages import csrf_of

Org = dict[str, Any]
HELD = ["Person to Lead", "Person to Contact"]


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    with served_org(tmp_path_factory.mktemp("org"), "--seed-leads", "3") as info:
        yield info


@pytest.fixture
def app(store: SqlPeopleStore, tmp_path: Path) -> FastAPI:
    return create_app(
        services_on(store, tmp_path / "data"),
        password_hasher=FAST_HASHER,
        connector=Connector(BOX, store.clock),
    )


async def connect_through(
    http: httpx.AsyncClient, org: Org, form_path: str = "/salesforce/connect", **changes: str
) -> httpx.Response:
    """Fill the form at ``form_path``, allow access at the org, and follow the callback."""
    page = await http.get(form_path)
    assert page.status_code == 200
    started = await http.post(
        "/salesforce/connect", data=connect_form(org, csrf_of(page.text), **changes)
    )
    assert started.status_code == 303, started.text
    return await http.get(await consent(org, started.headers["location"], "allow"))


async def test_the_same_org_under_a_second_name_is_refused(
    client: ClientFactory, users: Users, org: Org, store: SqlPeopleStore
) -> None:
    http = await browser(client, ADMIN_EMAIL)
    first = await connect_through(http, org)
    assert first.headers["location"] == "/salesforce?connected=default"
    stored = await store.get_state("integration:default")
    assert stored is not None and stored["organization_id"].startswith("00D")

    refused = await connect_through(http, org, name="second")
    assert refused.status_code == 409
    assert "already connected as integration" in refused.text and "default" in refused.text
    assert "Reconnect" in refused.text
    assert await store.get_state("integration:second") is None
    assert await store.get_state("profile:second") is None

    # An integration stored before org ids were kept is asked for its org (and keeps it).
    await store.set_state("integration:default", {**stored, "organization_id": None})
    refused = await connect_through(http, org, name="third")
    assert refused.status_code == 409
    assert await store.get_state("integration:third") is None
    learned = await store.get_state("integration:default")
    assert learned is not None and learned["organization_id"] == stored["organization_id"]
    await http.aclose()


async def test_form_proposes_a_free_name_refuses_a_taken_one_and_reconnects(
    client: ClientFactory, users: Users, org: Org, store: SqlPeopleStore
) -> None:
    http = await browser(client, ADMIN_EMAIL)
    form = await http.get("/salesforce/connect")
    assert 'name="name" value="default"' in form.text
    assert "data-outbound-note" in form.text
    await connect_through(http, org)

    form = await http.get("/salesforce/connect")
    assert 'name="name" value="org-2"' in form.text
    taken = await http.post("/salesforce/connect", data=connect_form(org, csrf_of(form.text)))
    assert taken.status_code == 422
    assert 'data-error-for="name"' in taken.text and "exists already" in taken.text

    # Reconnect renews the same integration; the steps the user switched on stay on.
    profile = (await load_profile(store, "default")).set_enabled("Person to Lead", True)
    await store.set_state("profile:default", profile.to_dict())
    status = await http.get("/salesforce/status?name=default")
    assert "/salesforce/connect?reconnect=default" in status.text
    again = await connect_through(http, org, "/salesforce/connect?reconnect=default", reconnect="1")
    assert again.headers["location"] == "/salesforce?connected=default"
    assert (await load_profile(store, "default")).awaiting_review() == ["Person to Contact"]
    await http.aclose()


async def test_a_new_integration_reads_first_and_writes_only_once_enabled(
    client: ClientFactory, users: Users, org: Org, store: SqlPeopleStore
) -> None:
    http = await browser(client, ADMIN_EMAIL)
    landed = await connect_through(http, org)
    profile = await load_profile(store, "default")
    assert profile.awaiting_review() == HELD
    assert profile.outbound_steps() == ()
    assert [s.name for s in profile.steps if s.enabled] == ["Account", "Lead", "Contact"]

    listed = await http.get(landed.headers["location"])
    assert "write nothing until you review them" in listed.text
    steps = await http.get("/salesforce/default/steps")
    assert 'data-review="Person to Lead"' in steps.text
    assert "push run --preview" in steps.text
    assert 'data-profile="default"' in steps.text  # held, it is still the shipped profile
    reset = await http.post(
        "/salesforce/default/steps/reset", data={"csrf_token": csrf_of(steps.text)}
    )
    assert reset.status_code == 303, reset.text
    assert (await load_profile(store, "default")).awaiting_review() == HELD  # not switched on
    api = await http.get("/api/v1/integrations")
    assert api.json()["items"][0]["outbound_awaiting_review"] == HELD
    status = await http.get("/salesforce/status?name=default")
    assert "data-awaiting-review" in status.text and "Person to Contact" in status.text
    report = await http.get("/api/v1/integrations/default/status")
    assert report.json()["outbound_awaiting_review"] == HELD

    switched = await http.post(
        "/salesforce/default/steps/Person to Lead/switch",
        data={"csrf_token": csrf_of(steps.text), "switch": "enabled", "value": "on"},
    )
    assert switched.status_code in (200, 303), switched.text
    profile = await load_profile(store, "default")
    assert profile.awaiting_review() == ["Person to Contact"]
    assert [s.name for s in profile.outbound_steps()] == ["Person to Lead"]
    await http.aclose()
