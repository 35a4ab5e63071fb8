"""REST twins of the People area: filtered person lists, segments CRUD with member counts,
custom attributes; viewers read, admins change; bad input is a 4xx naming the field."""

from __future__ import annotations

import httpx
import pytest

from peoplesync.people.sql_store import SqlPeopleStore
from tests.web.conftest import seed_people
from tests.web.test_api import error_of


async def test_persons_filtered_by_attributes_and_search(
    admin: httpx.AsyncClient, viewer: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    await seed_people(store)
    found = await viewer.get("/api/v1/persons", params={"filter": "city:equals:london"})
    assert [p["standard"]["first_name"] for p in found.json()["items"]] == ["Ada"]
    both = await viewer.get("/api/v1/persons", params=[("filter", "city:not_empty:"), ("q", "a")])
    assert sorted(p["standard"]["first_name"] for p in both.json()["items"]) == ["Ada", "Alan"]
    none = await viewer.get(
        "/api/v1/persons", params=[("filter", "city:not_empty:"), ("filter", "email:contains:navy")]
    )
    assert none.json()["items"] == []
    paged = await viewer.get("/api/v1/persons", params={"filter": "city:empty:", "limit": 1})
    assert [p["standard"]["first_name"] for p in paged.json()["items"]] == ["Grace"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"filter": "shoe_size:equals:42"}, "filters[0].field"),
        ({"filter": "city:gt:a"}, "filters[0].op"),
        ({"filter": "created_at:gt:yesterday"}, "filters[0].value"),
        ({"filter": "city"}, "filters[0]"),
        ({"segment": "0" * 32}, "id"),
        ({"limit": "0"}, "limit"),
    ],
)
async def test_bad_filters_are_4xx_naming_the_field(
    viewer: httpx.AsyncClient, store: SqlPeopleStore, params: dict[str, str], field: str
) -> None:
    response = await viewer.get("/api/v1/persons", params=params)
    assert 400 <= response.status_code < 500, response.text
    assert error_of(response)["field"] == field


async def test_segments_crud_with_member_counts(
    admin: httpx.AsyncClient, viewer: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    await seed_people(store)
    body = {"name": "Britons", "filters": [{"field": "city", "op": "not_empty"}]}
    created = await admin.post("/api/v1/segments", json=body)
    assert created.status_code == 201, created.text
    segment = created.json()
    assert segment["members"] == 2
    assert segment["filters"] == [{"field": "city", "op": "not_empty", "value": ""}]

    listed = await viewer.get("/api/v1/segments")
    assert [s["name"] for s in listed.json()["items"]] == ["Britons"]
    members = await viewer.get("/api/v1/persons", params={"segment": segment["id"]})
    assert sorted(p["standard"]["first_name"] for p in members.json()["items"]) == [
        "Ada",
        "Alan",
    ]
    narrowed = await viewer.get(
        "/api/v1/persons", params={"segment": segment["id"], "filter": "city:contains:manch"}
    )
    assert [p["standard"]["first_name"] for p in narrowed.json()["items"]] == ["Alan"]

    changed = await admin.put(
        f"/api/v1/segments/{segment['id']}",
        json={
            "name": "Londoners",
            "filters": [{"field": "city", "op": "equals", "value": "London"}],
        },
    )
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["members"]) == ("Londoners", 1)
    got = await viewer.get(f"/api/v1/segments/{segment['id']}")
    assert got.json()["members"] == 1

    clash = await admin.post("/api/v1/segments", json={"name": "Londoners"})
    assert clash.status_code == 422
    assert error_of(clash)["field"] == "name"
    bad = await admin.post(
        "/api/v1/segments",
        json={"name": "Bad", "filters": [{"field": "city", "op": "lt", "value": "x"}]},
    )
    assert bad.status_code == 422
    assert error_of(bad)["field"] == "filters[0].op"
    extra = await admin.post("/api/v1/segments", json={"name": "X", "colour": "red"})
    assert extra.status_code == 422
    assert error_of(extra)["field"] == "colour"

    assert (await viewer.delete(f"/api/v1/segments/{segment['id']}")).status_code == 403
    assert (await viewer.post("/api/v1/segments", json={"name": "V"})).status_code == 403
    deleted = await admin.delete(f"/api/v1/segments/{segment['id']}")
    assert deleted.status_code == 204
    gone = await viewer.get(f"/api/v1/segments/{segment['id']}")
    assert gone.status_code == 404
    assert error_of(gone)["code"] == "NOT_FOUND"


async def test_attributes_list_and_add(
    admin: httpx.AsyncClient,
    viewer: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    store: SqlPeopleStore,
) -> None:
    added = await admin.post(
        "/api/v1/attributes", json={"name": "tier", "type": "number", "mandatory": False}
    )
    assert added.status_code == 201, added.text
    listed = await viewer.get("/api/v1/attributes")
    assert listed.json()["items"] == [
        {"name": "tier", "type": "number", "mandatory": False, "description": ""}
    ]
    assert (await store.attributes())["tier"].type.value == "number"
    for body, field in [
        ({"name": "first_name"}, "name"),
        ({"name": "9lives"}, "name"),
        ({"name": "ok", "type": "colour"}, "type"),
    ]:
        response = await admin.post("/api/v1/attributes", json=body)
        assert response.status_code == 422, response.text
        assert error_of(response)["field"] == field
    assert (await viewer.post("/api/v1/attributes", json={"name": "x"})).status_code == 403
    assert (await anonymous.get("/api/v1/attributes")).status_code == 401


async def test_openapi_lists_the_people_endpoints(anonymous: httpx.AsyncClient) -> None:
    paths = (await anonymous.get("/api/v1/openapi.json")).json()["paths"]
    assert {
        "/segments",
        "/segments/{segment_id}",
        "/attributes",
        "/imports",
        "/exports",
    } <= set(paths)
    parameters = {p["name"] for p in paths["/persons"]["get"]["parameters"]}
    assert {"filter", "segment", "q", "after"} <= parameters


@pytest.mark.parametrize("value", ["1e400", "-1e400", "inf", "NaN"])
async def test_a_filter_number_that_is_not_finite_is_refused_naming_the_value(
    admin: httpx.AsyncClient, viewer: httpx.AsyncClient, store: SqlPeopleStore, value: str
) -> None:
    await seed_people(store)
    score = {"name": "score", "type": "number", "mandatory": False}
    assert (await admin.post("/api/v1/attributes", json=score)).status_code == 201
    answer = await viewer.get("/api/v1/persons", params={"filter": f"score:gt:{value}"})
    assert answer.status_code == 422, answer.text
    error = error_of(answer)
    assert error["field"] == "filters[0].value"
    assert value in error["message"]
    segment = await viewer.get(
        "/api/v1/persons", params={"filter": "score:gt:1e308"}
    )  # the largest still compares
    assert segment.status_code == 200, segment.text
