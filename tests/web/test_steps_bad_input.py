"""Odd input to the steps API and pages, without an org (People-only checks): every answer is
a page or a 4xx, never a server error, and nothing odd is saved."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.sync.profile.model import default_profile
from peoplesync.sync.profile.store import load_profile
from tests.web.conftest import ADMIN_EMAIL, ClientFactory, Users
from tests.web.test_pages import csrf_of, log_in

API = "/api/v1/integrations/default/steps"
PAGES = "/salesforce/default/steps"
ODD = ["", " ", "x" * 300, "a/b", "é", "Lead; DROP", "%00", "..", "') OR ('"]


def _path(text: str) -> str:
    return quote(text, safe="")


async def test_odd_api_input_is_never_a_server_error(
    admin: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    calls: list[tuple[str, str, Any]] = [
        ("POST", API, body)
        for body in [
            None,
            [],
            "x",
            {"sobject": ""},
            {"clone": ""},
            {"sobject": "Lead", "name": "a/b"},
            {"sobject": "Lead", "direction": "both"},
        ]
    ]
    for odd in ODD:
        calls += [
            ("PATCH", f"{API}/{_path(odd)}", {"enabled": True}),
            ("PATCH", f"{API}/Lead", {"filter": {"condition": odd}}),
            ("PATCH", f"{API}/Lead", {"filter": {"lead_statuses": [odd]}}),
            ("DELETE", f"{API}/{_path(odd)}", None),
            ("GET", f"{API}/{_path(odd)}/mapping", None),
            (
                "PUT",
                f"{API}/Lead/mapping",
                {"lines": [{"field": odd or "x", "attribute": odd or "y"}]},
            ),
            ("POST", f"{API}/Lead/filter/validate", {"condition": odd, "lead_statuses": [odd]}),
            ("GET", f"/api/v1/integrations/{_path(odd)}/steps", None),
        ]
    for method, path, body in calls:
        response = await admin.request(method, path, json=body)
        assert response.status_code < 500, (method, path, body, response.text)
    assert (await admin.post(API, json={"sobject": "Lead", "direction": "both"})).json()["error"][
        "field"
    ] == "direction"
    bad_name = (await admin.post(API, json={"sobject": "Lead", "name": "a/b"})).json()["error"]
    assert bad_name["hint"] == "start it with a letter or digit"
    assert "how to fix" not in bad_name["message"]  # the hint is said once, in "hint"
    saved = await load_profile(store)  # offline, any Lead Status text is acceptable
    assert saved.names() == default_profile().names()
    assert saved.step("Lead").lines == default_profile().step("Lead").lines


async def test_odd_form_input_is_never_a_server_error(
    client: ClientFactory, users: Users, store: SqlPeopleStore
) -> None:
    http = client()
    await log_in(http, ADMIN_EMAIL)
    page = await http.get(f"{PAGES}/Lead")
    assert page.status_code == 200 and "Not connected to the org" in page.text
    token = csrf_of(page.text)
    posts: list[tuple[str, dict[str, str]]] = [
        (f"{PAGES}/Lead/mapping", data)
        for data in [
            {"rows": "abc"},
            {"rows": "-5"},
            {"rows": "99999"},
            {"rows": "1", "field_0": "City", "attribute_0": "city", "mode_0": "zz"},
            {"rows": "1", "action": "create:9"},
            {"rows": "1", "action": "create:x"},
            {"rows": "1", "field_0": "City", "attribute_0": "9 bad", "action": "create:0"},
            {"rows": "1", "field_0": "City", "attribute_0": "id", "action": "create:0"},
            {"action": "zzz"},
        ]
    ]
    for data in [
        {"modified_within_days": "-3"},
        {"modified_within_days": "1e9"},
        {"condition": "') OR ('"},
        {"lead_statuses": " \n "},
    ]:
        for tail in ("filter", *(f"filter/check/{p}" for p in ODD_PARTS)):
            posts.append((f"{PAGES}/Lead/{tail}", data))
    for data in [
        {"sobject": ""},
        {"sobject": "Lead", "direction": "both"},
        {"sobject": "a b"},
        {"sobject": "Lead", "step_name": "Lead"},
    ]:
        posts.append((PAGES, data))
    for path, data in posts:
        response = await http.post(
            path, data={"csrf_token": token, **data}, headers={"X-CSRF-Token": token}
        )
        assert response.status_code < 500, (path, data, response.text[-300:])
    assert (await http.get("/salesforce/other/steps/Nope")).status_code == 404
    assert (await load_profile(store)) == default_profile()


ODD_PARTS = ("condition", "modified_within_days", "lead_statuses")
