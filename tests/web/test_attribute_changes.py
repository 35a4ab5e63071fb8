"""Adding an attribute never changes an existing one (409, "edit it instead"); changes are an
explicit edit (PUT, the Edit page); making an attribute mandatory while persons lack it asks
for confirmation, naming how many."""

from __future__ import annotations

import httpx

from peoplesync.people.attribute import AttributeDefinition, AttributeType
from peoplesync.people.model import PersonInput
from peoplesync.people.sql_store import SqlPeopleStore
from tests.web.conftest import seed_people
from tests.web.test_api import error_of
from tests.web.test_pages import admin_browser, csrf_of

__all__ = ["admin_browser"]  # fixture used below


async def test_api_add_with_an_existing_name_is_refused_and_edit_changes_it(
    admin: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    await store.define_attribute(
        AttributeDefinition("tier", AttributeType.NUMBER, mandatory=True), origin="t"
    )
    again = await admin.post(
        "/api/v1/attributes", json={"name": "tier", "type": "text", "mandatory": False}
    )
    assert again.status_code == 409, again.text
    error = error_of(again)
    assert error["code"] == "ATTRIBUTE_EXISTS" and error["field"] == "name"
    assert "attribute 'tier' exists (type number, mandatory): edit it instead" in error["message"]
    assert "PUT /api/v1/attributes/tier" in error["hint"]
    unchanged = (await store.attributes())["tier"]
    assert (unchanged.type, unchanged.mandatory) == (AttributeType.NUMBER, True)
    other_case = await admin.post("/api/v1/attributes", json={"name": "Tier"})
    assert error_of(other_case)["code"] == "ATTRIBUTE_EXISTS"

    edited = await admin.put("/api/v1/attributes/tier", json={"type": "text", "mandatory": False})
    assert edited.status_code == 200, edited.text
    assert edited.json() == {"name": "tier", "type": "text", "mandatory": False, "description": ""}
    missing = await admin.put("/api/v1/attributes/nothing", json={"mandatory": True})
    assert missing.status_code == 404 and error_of(missing)["field"] == "name"


async def test_api_mandatory_attribute_needs_confirm_naming_how_many_lack_it(
    admin: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    await seed_people(store)  # three persons
    body = {"name": "tier", "type": "number", "mandatory": True}
    refused = await admin.post("/api/v1/attributes", json=body)
    assert refused.status_code == 409, refused.text
    error = error_of(refused)
    assert error["code"] == "CONFIRMATION_REQUIRED" and error["field"] == "mandatory"
    assert "3 existing person(s) have no tier" in error["message"]
    assert '"confirm": true' in error["hint"]
    assert "tier" not in await store.attributes()
    added = await admin.post("/api/v1/attributes", json={**body, "confirm": True})
    assert added.status_code == 201, added.text
    assert (await store.attributes())["tier"].mandatory

    # An edit that makes an attribute mandatory counts the persons without a value.
    await admin.post("/api/v1/attributes", json={"name": "score", "type": "number"})
    ada = (await store.find_by_emails(["ada@example.com"]))["ada@example.com"]
    await store.upsert_persons([PersonInput(values={"score": 5, "tier": 1}, id=ada)], origin="t")
    edit = await admin.put("/api/v1/attributes/score", json={"mandatory": True})
    assert edit.status_code == 409
    assert "2 existing person(s) have no score" in error_of(edit)["message"]
    assert not (await store.attributes())["score"].mandatory
    confirmed = await admin.put(
        "/api/v1/attributes/score", json={"mandatory": True, "confirm": True}
    )
    assert confirmed.status_code == 200 and confirmed.json()["mandatory"] is True


async def test_page_add_existing_name_errors_and_mandatory_asks_to_confirm(
    admin_browser: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    await seed_people(store)
    await store.define_attribute(AttributeDefinition("tier", AttributeType.NUMBER), origin="t")
    token = csrf_of((await admin_browser.get("/attributes")).text)
    clash = await admin_browser.post(
        "/attributes", data={"csrf_token": token, "name": "tier", "type": "text"}
    )
    assert clash.status_code == 409
    assert 'data-error-for="name"' in clash.text
    assert "attribute &#39;tier&#39; exists (type number, optional): edit it instead" in clash.text
    assert 'href="/attributes/tier/edit"' in clash.text
    assert (await store.attributes())["tier"].type is AttributeType.NUMBER

    data = {"csrf_token": token, "name": "size", "type": "number", "mandatory": "yes"}
    asked = await admin_browser.post("/attributes", data=data)
    assert asked.status_code == 409
    assert 'data-confirm-for="mandatory"' in asked.text
    assert "3 existing person(s) have no size" in asked.text
    assert 'name="confirm" value="yes"' in asked.text
    assert "size" not in await store.attributes()
    confirmed = await admin_browser.post("/attributes", data={**data, "confirm": "yes"})
    assert confirmed.status_code == 303
    assert (await store.attributes())["size"].mandatory
    # What the warning said: a person without it cannot be saved from the edit form.
    ada = (await store.find_by_emails(["ada@example.com"]))["ada@example.com"]
    blocked = await admin_browser.post(
        f"/people/{ada}/edit",
        data={"csrf_token": token, "emails": "ada@example.com", "last_name": "Ada", "size": ""},
    )
    assert blocked.status_code == 422 and 'data-error-for="size"' in blocked.text

    edit_page = await admin_browser.get("/attributes/tier/edit")
    assert edit_page.status_code == 200 and "Edit attribute" in edit_page.text
    edit = {"csrf_token": token, "type": "number", "mandatory": "yes"}
    asked_again = await admin_browser.post("/attributes/tier/edit", data=edit)
    assert asked_again.status_code == 409
    assert "3 existing person(s) have no tier" in asked_again.text
    assert not (await store.attributes())["tier"].mandatory
    saved = await admin_browser.post("/attributes/tier/edit", data={**edit, "confirm": "yes"})
    assert saved.status_code == 303
    assert (await store.attributes())["tier"].mandatory
