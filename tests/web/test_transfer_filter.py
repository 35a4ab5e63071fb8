"""A transfer runs only the steps the user chooses, and its SOQL filter is checked against each
chosen step's object before anything starts: a field one object lacks is refused naming the
step, the object and the field, with the steps it fits (page, REST API), against a served
sandbox org."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.settings import Settings
from peoplesync.web.app import create_app
from tests.served_org import call, login, served_org
from tests.services import services_on
from tests.web.conftest import ADMIN_EMAIL, FAST_HASHER, ClientFactory, Users
from tests.web.steps_org import connect_org
from tests.web.test_pages import csrf_of, log_in

API = "/api/v1/integrations/default"
PAGE = "/salesforce/default/transfer"
COUNTRY = "Country = 'Atlantis'"  # a Lead field; Contacts have MailingCountry, Accounts not


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """An org with 10 Leads and 5 Contacts, two more Leads of Atlantis."""
    with served_org(
        tmp_path_factory.mktemp("org"), "--seed-leads", "10", "--seed-contacts", "5"
    ) as info:
        token = login(info)
        for last in ("Atlas", "Poseidon"):
            body = {"LastName": last, "Company": "Deep Co", "Country": "Atlantis"}
            call(info, "/services/data/v59.0/sobjects/Lead/", token, body=body)
        yield info


@pytest.fixture
async def app(store: SqlPeopleStore, org: dict[str, Any], tmp_path: Path) -> FastAPI:
    """The web app connected to the org, with settings so it can run transfers."""
    data_dir = tmp_path / "data"
    opener = await connect_org(store, org, data_dir)
    settings = Settings(data_dir=data_dir, secret_key=None)
    return create_app(
        services_on(store, data_dir, settings=settings, open_org=opener),
        password_hasher=FAST_HASHER,
    )


@pytest.fixture
async def admin_page(client: ClientFactory, users: Users) -> AsyncIterator[httpx.AsyncClient]:
    async with client() as http:
        assert (await log_in(http, ADMIN_EMAIL)).status_code == 303
        yield http


def _form(html: str, **values: Any) -> dict[str, Any]:
    return {"csrf_token": csrf_of(html), "steps_shown": "1", **values}


async def test_the_page_offers_the_steps_and_checks_the_filter_per_chosen_object(
    admin_page: httpx.AsyncClient,
) -> None:
    page = await admin_page.get(PAGE)
    boxes = re.findall(r'name="steps" value="([^"]+)" checked', page.text)
    assert boxes == ["Account", "Lead", "Contact"]  # every inbound step, as a transfer runs them

    every = await admin_page.post(
        PAGE, data=_form(page.text, filter=COUNTRY, steps=boxes, action="preview")
    )
    assert every.status_code == 422
    error = re.search(r'data-error-for="filter">([^<]+)<', every.text)
    assert error, every.text
    text = error.group(1).replace("&#39;", "'")
    assert "Country is not a field of Account (step Account to Company)" in text
    assert "Country is not a field of Contact (step Contact to Person)" in text
    assert "choose only the Lead step" in text
    assert "BillingCountry" in text and "MailingCountry" in text
    assert "INVALID_FIELD" not in text
    assert 'name="steps" value="Account" checked' in every.text  # the choice is kept

    lead_only = await admin_page.post(
        PAGE, data=_form(page.text, filter=COUNTRY, steps=["Lead"], action="preview")
    )
    assert lead_only.status_code == 200, lead_only.text
    rows = dict(re.findall(r'<tr data-step="([^"]+)"><td>[^<]*</td><td>(\d+)</td>', lead_only.text))
    assert rows == {"Lead": "2"}
    assert 'name="steps" value="Lead" checked' in lead_only.text
    assert 'name="steps" value="Contact" checked' not in lead_only.text

    no_lead = await admin_page.post(
        PAGE, data=_form(page.text, lead_status="Open", steps=["Contact"], action="preview")
    )
    assert no_lead.status_code == 422
    assert re.search(
        r'data-error-for="lead_status">Lead Status only applies to Leads', no_lead.text
    )

    none = await admin_page.post(PAGE, data=_form(page.text, action="preview"))
    assert none.status_code == 422
    assert "choose at least one step to transfer" in none.text


async def test_a_transfer_runs_only_the_chosen_steps(
    admin_page: httpx.AsyncClient, app: FastAPI, store: SqlPeopleStore
) -> None:
    page = await admin_page.get(PAGE)
    refused = await admin_page.post(
        PAGE, data=_form(page.text, filter=COUNTRY, steps=["Lead", "Account"], action="start")
    )
    assert refused.status_code == 422
    assert "Country is not a field of Account" in refused.text
    assert await app.state.transfers.jobs.latest("default", limit=1) == []  # nothing started

    started = await admin_page.post(
        PAGE, data=_form(page.text, filter=COUNTRY, steps=["Lead"], action="start")
    )
    assert started.status_code == 303, started.text
    await app.state.transfers.wait()
    job = (await app.state.transfers.jobs.latest("default", limit=1))[0]
    assert job.state == "done", job.message
    assert list(job.steps) == ["Lead"]
    assert job.steps["Lead"].created == 2
    assert job.options["asked"]["steps"] == ["Lead"]
    assert await store.count_persons() == 2  # only the Leads of Atlantis became persons


async def test_the_api_checks_the_filter_against_each_chosen_step(
    client: ClientFactory, users: Users
) -> None:
    async with client(users.admin_token) as api:
        every = await api.post(f"{API}/transfer/preview", json={"filter": COUNTRY})
        assert every.status_code == 422, every.text
        error = every.json()["error"]
        assert error["field"] == "filter"
        assert "Country is not a field of Account (step Account to Company)" in error["message"]
        assert "choose only the Lead step" in error["hint"]

        lead = await api.post(
            f"{API}/transfer/preview", json={"filter": COUNTRY, "steps": ["Lead"]}
        )
        assert lead.status_code == 200, lead.text
        assert lead.json()["Lead"]["read"] == 2
        assert "Account" not in lead.json() and "Contact" not in lead.json()

        contact = await api.post(
            f"{API}/transfer/preview",
            json={"filter": "MailingCountry = 'Atlantis'", "steps": ["Contact"]},
        )
        assert contact.status_code == 200, contact.text
        assert contact.json()["Contact"]["read"] == 0
