"""Input the fuzzing of the API found failing deep in the database (PostgreSQL refuses NUL,
no database encodes an unpaired surrogate, SQLite's prefix range overflowed at U+10FFFF, an
unknown company id broke a foreign key): each is a 4xx naming the field, on both databases,
in the API and on the pages."""

from __future__ import annotations

import httpx
import pytest

from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.web.input_guard import unstorable, unstorable_field
from tests.web.conftest import ClientFactory, Users, seed_people
from tests.web.test_api import error_of
from tests.web.test_pages import log_in


def test_unstorable_text_and_where_it_is() -> None:
    assert unstorable("a\x00b") and unstorable("\ud800") and not unstorable("Zoë 😀")
    body = {"values": {"first_name": "Ada", "city": "a\x00"}, "emails": ["ok", "\udfff"]}
    assert unstorable_field(body) == "values.city"
    assert unstorable_field({"emails": ["ok", "\udfff"]}) == "emails[1]"
    assert unstorable_field({"values": {"\x00": 1}}) == "values"
    assert unstorable_field(["\x00"]) == "body[0]"
    assert unstorable_field({"values": {"first_name": "Ada"}, "n": 1}) is None


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("GET", "/api/v1/persons?q=a%00", None, "q"),
        ("GET", "/api/v1/persons?after=%00", None, "after"),
        ("GET", "/api/v1/persons/a%00b", None, "path"),
        ("GET", "/api/v1/integrations/a%00/status", None, "path"),
        ("POST", "/api/v1/persons", '{"values": {"first_name": "a\\u0000"}}', "values.first_name"),
        ("POST", "/api/v1/persons", '{"emails": ["\\ud800@example.com"]}', "emails[0]"),
        ("PATCH", "/api/v1/persons/x", '{"values": {"city": "\\udc00"}}', "values.city"),
    ],
)
async def test_unstorable_text_is_a_422_naming_the_field(
    admin: httpx.AsyncClient, method: str, path: str, body: str | None, field: str
) -> None:
    headers = {"Content-Type": "application/json"} if body else {}
    response = await admin.request(method, path, content=body, headers=headers)
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["code"] == "INVALID_TEXT"
    assert error["field"] == field


async def test_searches_that_used_to_fail_find_nothing(
    admin: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    await seed_people(store)
    for query in ["\U0010ffff", "ada\U0010ffff", "%", "_"]:
        response = await admin.get("/api/v1/persons", params={"q": query})
        assert response.status_code == 200, query
        assert response.json()["items"] == []


async def test_an_unknown_company_id_is_a_422_naming_it(admin: httpx.AsyncClient) -> None:
    response = await admin.post("/api/v1/persons", json={"values": {"company_id": "nope"}})
    assert response.status_code == 422, response.text
    assert error_of(response)["field"] == "company_id"


async def test_pages_refuse_unstorable_text_with_an_error_page(
    client: ClientFactory, users: Users
) -> None:
    async with client() as http:
        assert (await log_in(http, "admin@example.com")).status_code == 303
        page = await http.get("/people", params={"q": "a\x00"})
        assert page.status_code == 422
        assert "text/html" in page.headers["content-type"]
        assert "NUL" in page.text
