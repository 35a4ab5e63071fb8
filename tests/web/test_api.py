"""The REST API against a real store (SQLite and PostgreSQL): every endpoint, authorization
and bad input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from peoplesync.clock import ManualClock
from peoplesync.people.attribute import AttributeDefinition, AttributeType
from peoplesync.people.sql_store import SqlPeopleStore
from tests.web.conftest import ClientFactory, Users, seed_people, seed_status


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The error object of an error response (every error has the same shape)."""
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "field", "hint"}
    error: dict[str, Any] = body["error"]
    return error


async def test_health_is_open_and_everything_else_needs_a_login(
    anonymous: httpx.AsyncClient,
) -> None:
    assert (await anonymous.get("/health")).json() == {"status": "ok"}
    for method, path in [
        ("GET", "/api/v1/persons"),
        ("GET", "/api/v1/persons/x"),
        ("POST", "/api/v1/persons"),
        ("PATCH", "/api/v1/persons/x"),
        ("GET", "/api/v1/integrations/default/status"),
        ("POST", "/api/v1/integrations/default/pause"),
        ("POST", "/api/v1/integrations/default/resume"),
        ("GET", "/api/v1/me"),
    ]:
        response = await anonymous.request(method, path, json={})
        assert response.status_code == 401, path
        assert error_of(response)["code"] == "UNAUTHORIZED"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    page = await anonymous.get("/people")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/people"


async def test_a_wrong_or_malformed_token_is_401(client: ClientFactory, users: Users) -> None:
    async with client("pst_not-a-token") as http:
        assert error_of(await http.get("/api/v1/me"))["code"] == "UNAUTHORIZED"
    async with client() as http:
        response = await http.get("/api/v1/me", headers={"Authorization": "Basic YTpi"})
        assert response.status_code == 401


async def test_me_names_the_caller(admin: httpx.AsyncClient, viewer: httpx.AsyncClient) -> None:
    assert (await admin.get("/api/v1/me")).json()["role"] == "admin"
    assert (await viewer.get("/api/v1/me")).json()["email"] == "viewer@example.com"


async def test_list_search_and_keyset_pages(
    viewer: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    ada, alan, grace = await seed_people(store)
    newest_first = sorted([ada, alan, grace], reverse=True)  # ids are time-ordered
    everyone = (await viewer.get("/api/v1/persons")).json()
    assert [p["id"] for p in everyone["items"]] == newest_first
    assert everyone["next"] is None

    first = (await viewer.get("/api/v1/persons", params={"limit": 2})).json()
    assert [p["id"] for p in first["items"]] == newest_first[:2]
    second = (
        await viewer.get("/api/v1/persons", params={"limit": 2, "after": first["next"]})
    ).json()
    assert [p["id"] for p in second["items"]] == newest_first[2:]
    assert second["next"] is None

    async def search(q: str) -> list[str]:
        response = await viewer.get("/api/v1/persons", params={"q": q})
        assert response.status_code == 200
        return [p["id"] for p in response.json()["items"]]

    assert await search("al") == [alan]  # first name prefix
    assert await search("LOVE") == [ada]  # last name, any case
    assert await search("grace@") == [grace]  # email prefix
    assert await search("ada lov") == [ada]  # first and last name
    assert set(await search("a")) == {ada, alan}
    assert await search("zz") == []
    assert await search("100%_") == []  # LIKE wildcards are literal


async def test_get_a_person_with_links_and_timeline(
    viewer: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    ada, *_ = await seed_people(store)
    body = (await viewer.get(f"/api/v1/persons/{ada}")).json()
    assert body["standard"]["city"] == "London"
    assert body["emails"] == ["ada@example.com"]
    assert body["phones"] == ["+442071234567"]
    assert body["links"] == [
        {
            "system": "salesforce:default",
            "object": "Lead",
            "id": "00Q000000000001AAA",
            "url": "https://org.example.my.salesforce.com/00Q000000000001AAA",
            "synced_at": None,
        }
    ]
    assert body["timeline"] == []
    missing = await viewer.get("/api/v1/persons/0123")
    assert missing.status_code == 404
    assert error_of(missing) | {"message": ""} == {
        "code": "NOT_FOUND",
        "message": "",
        "field": "id",
        "hint": "",
    }


async def test_admin_creates_and_patches(admin: httpx.AsyncClient, store: SqlPeopleStore) -> None:
    await store.define_attribute(AttributeDefinition("score", AttributeType.NUMBER), origin="test")
    created = await admin.post(
        "/api/v1/persons",
        json={
            "values": {"first_name": "Katherine", "last_name": "Johnson", "score": "7"},
            "emails": ["KJ@Example.com"],
            "phones": ["+1 415 555 0123"],
        },
    )
    assert created.status_code == 201, created.text
    person = created.json()
    assert person["custom"] == {"score": 7}
    assert person["phones"] == ["+14155550123"]

    patched = await admin.patch(
        f"/api/v1/persons/{person['id']}", json={"values": {"city": "Hampton", "score": None}}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["standard"]["city"] == "Hampton"
    assert patched.json()["custom"] == {}
    assert patched.json()["emails"] == person["emails"]  # not given: unchanged
    changes = await store.changes_since(0)
    assert changes[-1].origin == "web:admin@example.com"


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"emails": ["not-an-email"]}, 422, "INVALID_EMAIL", "emails[0]"),
        ({"phones": ["+1415555", "12"]}, 422, "INVALID_PHONE", "phones[0]"),
        ({"values": {"favourite": "x"}}, 422, "UNKNOWN_ATTRIBUTE", "favourite"),
        ({"values": {"birth_date": "31.05.2024"}}, 422, "WRONG_TYPE", "birth_date"),
        ({"values": {"city": "x" * 101}}, 422, "INVALID_VALUE", "city"),
        ({"values": {"city": {"nested": 1}}}, 422, "WRONG_TYPE", "city"),
        ({"values": "Ada"}, 422, "INVALID_REQUEST", "values"),
        ({"emails": "ada@example.com"}, 422, "INVALID_REQUEST", "emails"),
        ({"unexpected": 1}, 422, "INVALID_REQUEST", "unexpected"),
        ({"emails": ["x@example.com", "ADA@example.com"]}, 409, "DUPLICATE_EMAIL", "emails[1]"),
    ],
)
async def test_bad_input_is_a_4xx_naming_the_field(
    admin: httpx.AsyncClient,
    store: SqlPeopleStore,
    body: dict[str, Any],
    status: int,
    code: str,
    field: str,
) -> None:
    await seed_people(store)
    response = await admin.post("/api/v1/persons", json=body)
    assert response.status_code == status, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == (code, field)
    assert error["message"]


async def test_malformed_requests_are_4xx(admin: httpx.AsyncClient, store: SqlPeopleStore) -> None:
    ada, *_ = await seed_people(store)
    broken = await admin.post(
        "/api/v1/persons", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 422
    assert error_of(broken)["code"] == "INVALID_JSON"
    assert (await admin.patch("/api/v1/persons/nobody", json={})).status_code == 404
    bad_limit = await admin.get("/api/v1/persons", params={"limit": 0})
    assert (bad_limit.status_code, error_of(bad_limit)["field"]) == (422, "limit")
    assert (await admin.delete(f"/api/v1/persons/{ada}")).status_code == 405
    assert error_of(await admin.get("/api/v1/nothing-here"))["code"] == "NOT_FOUND"
    long_query = await admin.get("/api/v1/persons", params={"q": "x" * 201})
    assert long_query.status_code == 422
    # a cursor the API never gave is refused, not read as the first page again (endless paging)
    for cursor in ("garbage", "ZZ" * 16, ada[:-1]):
        bad_cursor = await admin.get("/api/v1/persons", params={"after": cursor})
        assert (bad_cursor.status_code, error_of(bad_cursor)["field"]) == (422, "after")
    assert (await admin.get("/api/v1/persons", params={"after": ada})).status_code == 200
    # a form post or a JSON array where a JSON object is due names the body and the fix
    for wrong in ({"data": {"first_name": "Ada"}}, {"json": [{"first_name": "Ada"}]}):
        refused = await admin.post("/api/v1/persons", **wrong)  # type: ignore[arg-type]
        assert refused.status_code == 422
        assert error_of(refused) == {
            "code": "INVALID_REQUEST",
            "message": "the request body is not a JSON object",
            "field": "body",
            "hint": "send a JSON object with the header Content-Type: application/json",
        }


async def test_a_field_the_request_does_not_take_is_named_with_the_ones_it_takes(
    admin: httpx.AsyncClient,
) -> None:
    # "email" is what an import line says; the API takes "emails" (a list)
    person = await admin.post("/api/v1/persons", json={"email": "ada@example.com"})
    assert person.status_code == 422
    assert error_of(person) == {
        "code": "INVALID_REQUEST",
        "message": "this request has no field 'email'",
        "field": "email",
        "hint": "use values, emails, phones (see /api/v1/openapi.json)",
    }
    # a body field known by its JSON name ("from") is listed by it
    message = await admin.post("/api/v1/messages", json={"to": "+385911234567", "sender": "X"})
    assert message.status_code == 422
    assert error_of(message)["field"] == "sender"
    assert "from, account, request" in error_of(message)["hint"]
    # an unknown field deeper in the body is named without a list of the top-level ones
    segment = {"name": "s", "filters": [{"field": "city", "op": "eq", "value": "x", "y": 1}]}
    deep = await admin.post("/api/v1/segments", json=segment)
    assert deep.status_code == 422
    assert (error_of(deep)["field"], error_of(deep)["hint"]) == (
        "filters.0.y",
        "see /api/v1/openapi.json",
    )


async def test_viewer_cannot_change_anything(
    viewer: httpx.AsyncClient, store: SqlPeopleStore, clock: ManualClock
) -> None:
    ada, *_ = await seed_people(store)
    for method, path, body in [
        ("POST", "/api/v1/persons", {"values": {"first_name": "X"}}),
        ("PATCH", f"/api/v1/persons/{ada}", {"values": {"city": "Paris"}}),
        ("POST", "/api/v1/integrations/default/pause", None),
        ("POST", "/api/v1/integrations/default/resume", None),
    ]:
        response = await viewer.request(method, path, json=body)
        assert response.status_code == 403, path
        assert error_of(response)["code"] == "FORBIDDEN"
    assert (await store.get_persons([ada]))[ada].get("city") == "London"


async def test_status_pause_and_resume(
    admin: httpx.AsyncClient, viewer: httpx.AsyncClient, store: SqlPeopleStore, clock: ManualClock
) -> None:
    missing = await viewer.get("/api/v1/integrations/default/status")
    assert (missing.status_code, error_of(missing)["field"]) == (404, "integration")
    await seed_people(store)
    await seed_status(store, clock)

    status = (await viewer.get("/api/v1/integrations/default/status")).json()
    assert status["state"] == "active"
    assert status["days"][-1]["api_calls"] == 7
    assert status["days"][-1]["created"] == 3
    assert "Lead -> Person" in status["last_sync"]
    assert status["problems"][0]["code"] == "INVALID_EMAIL"
    assert status["problems"][0]["examples"][0]["record"] == "00Q000000000002AAA"

    paused = await admin.post("/api/v1/integrations/default/pause")
    assert paused.json() == {"integration": "default", "state": "paused"}
    status = (await viewer.get("/api/v1/integrations/default/status")).json()
    assert status["state"] == "paused"
    assert status["log"][0]["detail"] == "paused by admin@example.com"
    resumed = await admin.post("/api/v1/integrations/default/resume")
    assert resumed.json()["state"] == "active"
    assert (await admin.post("/api/v1/integrations/other/pause")).status_code == 404
    bad_days = await viewer.get("/api/v1/integrations/default/status", params={"days": 1000})
    assert bad_days.status_code == 422


TRANSFER_PATHS = {
    "/integrations/{name}",
    "/integrations/{name}/transfer/preview",
    "/integrations/{name}/transfers",
    "/integrations/{name}/transfers/{job_id}",
    "/integrations/{name}/transfers/{job_id}/resume",
    "/integrations/{name}/resync",
    "/integrations/{name}/retry",
    "/integrations/{name}/log",
    "/integrations/{name}/errors",
}


async def test_openapi_document_lists_every_endpoint(anonymous: httpx.AsyncClient) -> None:
    document = (await anonymous.get("/api/v1/openapi.json")).json()
    assert {
        "/persons",
        "/persons/{person_id}",
        "/integrations/{name}/status",
        "/integrations/{name}/pause",
        "/integrations/{name}/resume",
        "/integrations",
        "/integrations/connect",
        "/me",
    } | TRANSFER_PATHS <= set(document["paths"])
    assert "ErrorResponse" in document["components"]["schemas"]
    assert (await anonymous.get("/api/v1/docs")).status_code == 404  # no CDN-loaded docs UI
