"""Add/Edit person refuses a person with no email, phone or name, shows which fields the
connected Salesforce integration needs to create a record, and rejects a birth date in the
future; the API answers the same."""

from __future__ import annotations

import httpx

from peoplesync.people.model import PersonInput
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.sync.profile.model import default_profile
from peoplesync.sync.profile.store import profile_key
from tests.web.conftest import seed_people
from tests.web.test_api import error_of
from tests.web.test_pages import admin_browser, csrf_of

__all__ = ["admin_browser"]  # fixture used below

EMPTY_FORM = {"emails": "", "phones": "", "first_name": "", "last_name": "", "city": " "}


async def test_an_empty_add_person_form_is_refused_next_to_emails(
    admin_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    token = csrf_of((await admin_browser.get("/people/new")).text)
    empty = await admin_browser.post("/people/new", data={"csrf_token": token, **EMPTY_FORM})
    assert empty.status_code == 422
    assert 'data-error-for="emails"' in empty.text
    assert "a person needs at least an email, a phone or a name" in empty.text
    assert await store.count_persons() == 0
    named = await admin_browser.post(
        "/people/new", data={"csrf_token": token, **EMPTY_FORM, "last_name": "Jackson"}
    )
    assert named.status_code == 303
    assert await store.count_persons() == 1


async def test_an_edit_that_removes_every_identifier_is_refused(
    admin_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    ada, *_ = await seed_people(store)
    token = csrf_of((await admin_browser.get(f"/people/{ada}/edit")).text)
    cleared = await admin_browser.post(
        f"/people/{ada}/edit", data={"csrf_token": token, **EMPTY_FORM}
    )
    assert cleared.status_code == 422
    assert 'data-error-for="emails"' in cleared.text
    assert (await store.get_persons([ada]))[ada].emails == ("ada@example.com",)


async def test_api_refuses_an_empty_person_and_a_future_birth_date(
    admin: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    empty = await admin.post("/api/v1/persons", json={"values": {"city": "Paris"}})
    assert empty.status_code == 422, empty.text
    assert error_of(empty)["field"] == "emails"
    assert "an email, a phone or a name" in error_of(empty)["message"]
    unborn = await admin.post(
        "/api/v1/persons", json={"values": {"last_name": "Later", "birth_date": "2099-01-01"}}
    )
    assert unborn.status_code == 422, unborn.text
    assert error_of(unborn)["field"] == "birth_date"
    assert "2099-01-01 is in the future" in error_of(unborn)["message"]
    assert await store.count_persons() == 0
    phone_only = await admin.post("/api/v1/persons", json={"phones": ["+14155550199"]})
    assert phone_only.status_code == 201, phone_only.text


async def test_the_form_marks_what_salesforce_needs_to_create_a_lead(
    admin_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    alone = await admin_browser.get("/people/new")
    assert "data-needed-by" not in alone.text  # no integration: People alone
    assert "data-salesforce-needs" not in alone.text

    await store.set_state("integration:default", {"login_url": "https://org.example.com"})
    page = await admin_browser.get("/people/new")
    last_name = page.text.split('name="last_name"')[1].split("</label>")[0]
    assert 'data-needed-by="Lead.LastName"' in last_name
    company = page.text.split('name="company"')[1].split("</label>")[0]
    assert 'data-needed-by="Lead.Company"' in company
    assert "Lead.Company is required and comes from company" in page.text

    # A step whose mapping lost Company: every create would fail, and the form says so.
    profile = default_profile().remove_line("Person to Lead", "Company")
    await store.set_state(profile_key("default"), profile.to_dict())
    unmapped = await admin_browser.get("/people/new")
    assert 'data-unmapped="Lead.Company"' in unmapped.text
    assert "no People attribute is mapped to it" in unmapped.text
    assert 'data-needed-by="Lead.Company"' not in unmapped.text

    # The needs warn; they do not block People: a person without a company is saved.
    token = csrf_of(page.text)
    saved = await admin_browser.post(
        "/people/new", data={"csrf_token": token, **EMPTY_FORM, "emails": "x@example.com"}
    )
    assert saved.status_code == 303


async def test_the_form_refuses_a_birth_date_in_the_future(
    admin_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    await store.upsert_persons([PersonInput(emails=["b@example.com"])], origin="t")
    token = csrf_of((await admin_browser.get("/people/new")).text)
    unborn = await admin_browser.post(
        "/people/new",
        data={"csrf_token": token, **EMPTY_FORM, "last_name": "Later", "birth_date": "2099-01-01"},
    )
    assert unborn.status_code == 422
    assert 'data-error-for="birth_date"' in unborn.text
    assert "2099-01-01 is in the future" in unborn.text
    assert await store.count_persons() == 1
