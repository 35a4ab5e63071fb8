"""The steps, mapping and filter API against a served sandbox org and a real store: reads for
viewers, changes for admins, checks like the CLI's, and 4xx naming the field for bad input."""

from __future__ import annotations

from typing import Any

import httpx

from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.sync.profile.store import load_profile
from tests.web.steps_org import app, org
from tests.web.test_api import error_of

STEPS = "/api/v1/integrations/default/steps"
__all__ = ["app", "org"]  # fixtures: the app connected to a served org


async def test_anonymous_gets_401_and_viewers_read_but_cannot_change(
    anonymous: httpx.AsyncClient, viewer: httpx.AsyncClient
) -> None:
    for method, path in [
        ("GET", STEPS),
        ("POST", STEPS),
        ("PATCH", f"{STEPS}/Lead"),
        ("DELETE", f"{STEPS}/Lead"),
        ("GET", f"{STEPS}/Lead/mapping"),
        ("PUT", f"{STEPS}/Lead/mapping"),
        ("POST", f"{STEPS}/Lead/filter/validate"),
    ]:
        response = await anonymous.request(method, path, json={})
        assert response.status_code == 401, path
        assert error_of(response)["code"] == "UNAUTHORIZED"
    listed = (await viewer.get(STEPS)).json()
    assert listed["profile"] == "default"
    assert [s["name"] for s in listed["steps"]] == [
        "Account",
        "Lead",
        "Contact",
        "Person to Lead",
        "Person to Contact",
    ]
    for method, path, body in [
        ("POST", STEPS, {"sobject": "Lead"}),
        ("PATCH", f"{STEPS}/Lead", {"enabled": False}),
        ("DELETE", f"{STEPS}/Lead", None),
        ("PUT", f"{STEPS}/Lead/mapping", {"lines": []}),
    ]:
        response = await viewer.request(method, path, json=body)
        assert response.status_code == 403, path
        assert error_of(response)["code"] == "FORBIDDEN"
    valid = await viewer.post(f"{STEPS}/Lead/filter/validate", json={"condition": "Rating = 'Hot'"})
    assert valid.json() == {
        "valid": True,
        "condition": "(Rating = 'Hot')",
        "checked_with_org": True,
    }


async def test_add_clone_switch_and_remove_steps(
    admin: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    added = await admin.post(STEPS, json={"sobject": "Lead", "name": "Hot leads"})
    assert added.status_code == 201, added.text
    assert added.json()["resync"] == {"Hot leads": "new step"}
    clone = await admin.post(STEPS, json={"clone": "Hot leads"})
    assert clone.json()["name"] == "Hot leads 2"
    patched = await admin.patch(
        f"{STEPS}/Hot leads 2",
        json={"delete": False, "filter": {"condition": "Rating = 'Hot'", "lead_statuses": []}},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["delete"] is False
    assert patched.json()["condition"] == "(Rating = 'Hot')"
    assert patched.json()["resync"] == {"Hot leads 2": "filter changed"}
    assert (await admin.delete(f"{STEPS}/Hot leads")).status_code == 204
    profile = await load_profile(store)
    assert profile.names()[-1] == "Hot leads 2"
    assert profile.find("Hot leads") is None
    assert profile.step("Hot leads 2").filter.condition == "Rating = 'Hot'"
    assert (await admin.get(STEPS)).json()["profile"] == "custom"


async def test_bad_changes_are_422_naming_the_field_and_save_nothing(
    admin: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    cases: list[tuple[str, str, Any, str]] = [
        ("POST", STEPS, {"clone": "Nope"}, "clone"),
        ("POST", STEPS, {"sobject": "Lead", "name": "Lead"}, "name"),
        ("POST", STEPS, {"sobject": "Lead", "extra": 1}, "extra"),
        ("POST", STEPS, {"sobject": "Nope__c"}, "sobject"),
        ("PATCH", f"{STEPS}/Lead", {"filter": {"condition": "Sauce__c = 'x'"}}, "filter.condition"),
        (
            "PATCH",
            f"{STEPS}/Lead",
            {"filter": {"modified_within_days": -1}},
            "filter.modified_within_days",
        ),
        ("PATCH", f"{STEPS}/Lead", {"filter": {"lead_statuses": ["Hot"]}}, "filter.lead_statuses"),
        (
            "PATCH",
            f"{STEPS}/Contact",
            {"filter": {"lead_statuses": ["Working - Contacted"]}},
            "filter.lead_statuses",
        ),
        ("PATCH", f"{STEPS}/Person to Contact", {"create": True}, "create"),
        (
            "PUT",
            f"{STEPS}/Lead/mapping",
            {"lines": [{"field": "Sauce__c", "attribute": "city"}]},
            "mapping (Sauce__c)",
        ),
        (
            "PUT",
            f"{STEPS}/Lead/mapping",
            {"lines": [{"field": "City", "attribute": "town"}]},
            "mapping (town)",
        ),
        (
            "PUT",
            f"{STEPS}/Lead/mapping",
            {"lines": [{"field": "City", "attribute": "city", "mode": "x"}]},
            "lines.0.mode",
        ),
        ("PUT", f"{STEPS}/Lead/mapping", {"lines": []}, "mapping"),
        (
            "PUT",
            f"{STEPS}/Person to Lead/mapping",
            {"lines": [{"field": "Email", "attribute": "emails"}]},
            "mapping (LastName)",
        ),
        ("POST", f"{STEPS}/Lead/filter/validate", {"condition": "Name = "}, "filter.condition"),
        (
            "POST",
            f"{STEPS}/Lead/filter/validate",
            {"condition": "x = 1) OR (Id != null"},
            "filter.condition",
        ),
    ]
    before = await load_profile(store)
    for method, path, body, field in cases:
        response = await admin.request(method, path, json=body)
        assert 400 <= response.status_code < 500, (path, body, response.text)
        assert error_of(response)["field"] == field, (body, response.text)
    assert await load_profile(store) == before
    missing = await admin.patch(f"{STEPS}/Nope", json={"enabled": False})
    assert missing.status_code == 404
    assert error_of(missing)["field"] == "step"
    assert (await admin.get(f"{STEPS}/Nope/mapping")).status_code == 404


async def test_mapping_round_trip_with_describe_and_resync(
    admin: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    mapping = (await admin.get(f"{STEPS}/Person to Lead/mapping")).json()
    assert {"LastName", "Company"} <= set(mapping["required_on_create"])
    # The default profile's fields mapped by both person steps are two-way lines.
    assert (mapping["lines"][0]["direction"], mapping["lines"][0]["conflict"]) == (
        "both",
        "most_recent",
    )
    cursor_key = (await load_profile(store)).step("Lead").inbound_step("default").cursor_key
    await store.set_state(cursor_key, {"modstamp": "2026-01-01T00:00:00Z"})
    lines = (await admin.get(f"{STEPS}/Lead/mapping")).json()["lines"]
    city = next(line for line in lines if line["field"] == "City")
    city["mode"] = "fill"
    city["when"] = "create"
    lines.append({"field": "AnnualRevenue", "attribute": "revenue", "mode": "dont_sync"})
    saved = await admin.put(f"{STEPS}/Lead/mapping", json={"lines": lines})
    assert saved.status_code == 200, saved.text
    assert saved.json()["resync"] == {"Lead": "mapping changed"}
    again = (await admin.get(f"{STEPS}/Lead/mapping")).json()
    assert next(line for line in again["lines"] if line["field"] == "City") == {
        "field": "City",
        "attribute": "city",
        "mode": "fill",
        "when": "create",
        "direction": "both",
        "conflict": "most_recent",
    }
    assert again["missing_attributes"] == []  # a Don't sync line needs no attribute
    assert await store.get_state(cursor_key) == {}
    lines[-1]["mode"] = "overwrite"
    rejected = await admin.put(f"{STEPS}/Lead/mapping", json={"lines": lines})
    assert error_of(rejected)["field"] == "mapping (revenue)"
    assert "People has no attribute revenue" in error_of(rejected)["message"]
    assert "POST /api/v1/attributes" in error_of(rejected)["hint"]  # not a CLI command
    assert "peoplesync " not in error_of(rejected)["hint"]


async def test_openapi_lists_the_steps_endpoints(anonymous: httpx.AsyncClient) -> None:
    document = (await anonymous.get("/api/v1/openapi.json")).json()
    paths = document["paths"]
    assert set(paths["/integrations/{name}/steps"]) == {"get", "post"}
    assert set(paths["/integrations/{name}/steps/{step}"]) == {"patch", "delete"}
    assert set(paths["/integrations/{name}/steps/{step}/mapping"]) == {"get", "put"}
    assert set(paths["/integrations/{name}/steps/{step}/filter/validate"]) == {"post"}
    put = paths["/integrations/{name}/steps/{step}/mapping"]["put"]
    assert put["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"
    }
