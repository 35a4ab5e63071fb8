"""The Marketing Cloud sandbox on the wire: token, definitions, rows, async, reads, events,
error bodies, knobs and restarts, spoken to with plain httpx."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.integration.marketing_cloud.sandbox_unit import (
    BASE,
    CLIENT_ID,
    MID,
    SECRET,
    SandboxUnit,
    sandbox_unit,
)

AUDIENCE = {
    "name": "Audience",
    "key": "audience",
    "fields": [
        {"name": "ContactKey", "type": "Text", "length": 50, "isPrimaryKey": True},
        {"name": "Mobile", "type": "Phone"},
        {"name": "Score", "type": "Number"},
        {"name": "Email", "type": "EmailAddress", "length": 254},
    ],
}


async def _authed(unit: SandboxUnit) -> dict[str, str]:
    return {"Authorization": f"Bearer {await unit.raw_token()}"}


async def _create(unit: SandboxUnit, headers: dict[str, str]) -> dict[str, Any]:
    answer = await unit.http.post(f"{BASE}/data/v1/customobjects", json=AUDIENCE, headers=headers)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def test_token_json_and_form_and_refusals(tmp_path: Path) -> None:
    async with sandbox_unit(tmp_path) as unit:
        form = await unit.http.post(
            f"{BASE}/v2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": CLIENT_ID,
                "client_secret": SECRET,
                "account_id": MID,
            },
        )
        assert form.status_code == 200
        body = form.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == 1079
        assert body["rest_instance_url"].endswith("/")
        wrong = await unit.http.post(
            f"{BASE}/v2/token",
            json={
                "grant_type": "client_credentials",
                "client_id": CLIENT_ID,
                "client_secret": "nope",
            },
        )
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
        grant = await unit.http.post(f"{BASE}/v2/token", json={"grant_type": "password"})
        assert grant.status_code == 400
        assert grant.json()["error"] == "unsupported_grant_type"
        other_mid = await unit.http.post(
            f"{BASE}/v2/token",
            json={
                "grant_type": "client_credentials",
                "client_id": CLIENT_ID,
                "client_secret": SECRET,
                "account_id": "999",
            },
        )
        assert other_mid.status_code == 401
        bare = await unit.http.get(f"{BASE}/data/v1/customobjects")
        assert bare.status_code == 401
        assert bare.json() == {"message": "Not Authorized", "errorcode": 0, "documentation": ""}


async def test_token_expires_with_the_clock(tmp_path: Path) -> None:
    async with sandbox_unit(tmp_path, token_lifetime_seconds=60) as unit:
        headers = await _authed(unit)
        assert (await unit.http.get(f"{BASE}/data/v1/customobjects", headers=headers)).is_success
        unit.clock.now += 61
        expired = await unit.http.get(f"{BASE}/data/v1/customobjects", headers=headers)
        assert expired.status_code == 401


async def test_rowset_keeps_rows_before_the_first_bad_one(tmp_path: Path) -> None:
    async with sandbox_unit(tmp_path) as unit:
        headers = await _authed(unit)
        await _create(unit, headers)
        rows = [
            {"keys": {"ContactKey": "a"}, "values": {"Score": "1"}},
            {"keys": {"ContactKey": "b"}, "values": {"Email": "not-an-address"}},
            {"keys": {"ContactKey": "c"}, "values": {"Score": "3"}},
        ]
        answer = await unit.http.post(
            f"{BASE}/hub/v1/dataevents/key:audience/rowset", json=rows, headers=headers
        )
        assert answer.status_code == 400
        body = answer.json()
        assert body["errorcode"] == 10006
        assert "InvalidEmailAddress" in body["additionalErrors"][0]["message"]
        read = await unit.http.get(
            f"{BASE}/data/v1/customobjectdata/key/audience/rowset", headers=headers
        )
        assert [item["keys"]["contactkey"] for item in read.json()["items"]] == ["a"]
        no_key = await unit.http.post(
            f"{BASE}/hub/v1/dataevents/key:audience/rowset",
            json=[{"keys": {}, "values": {"Score": "2"}}],
            headers=headers,
        )
        assert "Primary key 'contactkey' does not exist." in no_key.text
        unknown = await unit.http.post(
            f"{BASE}/hub/v1/dataevents/key:nothing/rowset", json=[], headers=headers
        )
        assert unknown.json()["errorcode"] == 10001
        single = await unit.http.put(
            f"{BASE}/hub/v1/dataevents/key:audience/rows/ContactKey:z",
            json={"values": {"Score": "8"}},
            headers=headers,
        )
        assert single.json() == {"keys": {"ContactKey": "z"}, "values": {"Score": "8"}}
        bad_single = await unit.http.put(
            f"{BASE}/hub/v1/dataevents/key:audience/rows/ContactKey:y",
            json={"values": {"Score": "eight"}},
            headers=headers,
        )
        assert bad_single.status_code == 400 and bad_single.json()["errorcode"] == 10001
        read = await unit.http.get(
            f"{BASE}/data/v1/customobjectdata/key/audience/rowset", headers=headers
        )
        assert [item["keys"]["contactkey"] for item in read.json()["items"]] == ["a", "z"]


async def test_async_rows_status_results_and_reads(tmp_path: Path) -> None:
    async with sandbox_unit(tmp_path) as unit:
        headers = await _authed(unit)
        await _create(unit, headers)
        items = [{"ContactKey": f"k{n}", "Score": str(n)} for n in range(30)]
        items.append({"ContactKey": "bad", "Score": "many"})
        answer = await unit.http.put(
            f"{BASE}/data/v1/async/dataextensions/key:audience/rows",
            json={"items": items},
            headers=headers,
        )
        assert answer.status_code == 202
        request_id = answer.json()["requestId"]
        status = await unit.http.get(f"{BASE}/data/v1/async/{request_id}/status", headers=headers)
        assert status.json()["status"]["requestStatus"] == "Complete"
        assert status.json()["status"]["hasErrors"] is True
        results = await unit.http.get(f"{BASE}/data/v1/async/{request_id}/results", headers=headers)
        assert results.json()["count"] == 1
        missing = await unit.http.get(f"{BASE}/data/v1/async/nope/status", headers=headers)
        assert missing.json()["resultMessages"][0]["resultCode"] == "AsyncRequestStatusNotFound"
        page = await unit.http.get(
            f"{BASE}/data/v1/customobjectdata/key/audience/rowset",
            params={"$page": "2", "$pageSize": "20"},
            headers=headers,
        )
        assert page.json()["count"] == 30 and len(page.json()["items"]) == 10
        one = await unit.http.get(
            f"{BASE}/data/v1/customobjectdata/key/audience/rowset",
            params={"$filter": "ContactKey eq 'k7'"},
            headers=headers,
        )
        assert one.json()["items"] == [{"keys": {"contactkey": "k7"}, "values": {"score": "7"}}]
        inserted_twice = await unit.http.post(
            f"{BASE}/data/v1/async/dataextensions/key:audience/rows",
            json={"items": [{"ContactKey": "k1"}]},
            headers=headers,
        )
        again = inserted_twice.json()["requestId"]
        failed = await unit.http.get(f"{BASE}/data/v1/async/{again}/results", headers=headers)
        assert "PRIMARY KEY" in failed.json()["items"][0]["message"]
        no_extension = await unit.http.put(
            f"{BASE}/data/v1/async/dataextensions/key:ghost/rows",
            json={"items": [{"a": 1}]},
            headers=headers,
        )
        assert no_extension.status_code == 400
        assert no_extension.json()["resultMessages"][0]["resultCode"] == "CustomObjectNotFound"


async def test_api_events_land_in_the_event_extension(tmp_path: Path) -> None:
    async with sandbox_unit(tmp_path) as unit:
        headers = await _authed(unit)
        created = await _create(unit, headers)
        definition = await unit.http.post(
            f"{BASE}/interaction/v1/eventDefinitions",
            json={"eventDefinitionKey": "APIEvent-reply", "dataExtensionId": created["id"]},
            headers=headers,
        )
        assert definition.status_code == 201
        fired = await unit.http.post(
            f"{BASE}/interaction/v1/events",
            json={
                "ContactKey": "c1",
                "EventDefinitionKey": "APIEvent-reply",
                "Data": {"ContactKey": "c1", "Score": "9"},
            },
            headers=headers,
        )
        assert fired.status_code == 201 and fired.json()["eventInstanceId"]
        unknown = await unit.http.post(
            f"{BASE}/interaction/v1/events",
            json={"ContactKey": "c1", "EventDefinitionKey": "nope", "Data": {}},
            headers=headers,
        )
        assert unknown.status_code == 400
        events = await unit.http.get(f"{BASE}/sandbox/events", headers=headers)
        assert [each["contactKey"] for each in events.json()["items"]] == ["c1"]
        read = await unit.http.get(
            f"{BASE}/interaction/v1/eventDefinitions/key:APIEvent-reply", headers=headers
        )
        assert read.json()["dataExtensionId"] == created["id"]
        rows = await unit.http.get(
            f"{BASE}/data/v1/customobjectdata/key/audience/rowset", headers=headers
        )
        assert rows.json()["items"][0]["values"]["score"] == "9"


async def test_knobs_refuse_with_429_and_retry_after(tmp_path: Path) -> None:
    async with sandbox_unit(tmp_path) as unit:
        headers = await _authed(unit)
        owner = httpx.BasicAuth(CLIENT_ID, SECRET)
        stranger = await unit.http.put(f"{BASE}/sandbox/control", json={"fail_next_429": 1})
        assert stranger.status_code == 401
        set_ = await unit.http.put(
            f"{BASE}/sandbox/control",
            json={"fail_next_429": 1, "retry_after_seconds": 7},
            auth=owner,
        )
        assert set_.json()["knobs"]["fail_next_429"] == 1
        throttled = await unit.http.get(f"{BASE}/data/v1/customobjects", headers=headers)
        assert throttled.status_code == 429 and throttled.headers["retry-after"] == "7"
        assert (await unit.http.get(f"{BASE}/data/v1/customobjects", headers=headers)).is_success
        bad_knob = await unit.http.put(f"{BASE}/sandbox/control", json={"warp": 9}, auth=owner)
        assert bad_knob.status_code == 400
        not_number = await unit.http.put(
            f"{BASE}/sandbox/control", json={"latency_ms": "slow"}, auth=owner
        )
        assert not_number.status_code == 400 and unit.knobs.latency_ms == 0
        await unit.http.put(f"{BASE}/sandbox/control", json={"rate_500": 1.0}, auth=owner)
        down = await unit.http.get(f"{BASE}/data/v1/customobjects", headers=headers)
        assert down.status_code == 500 and down.json()["errorcode"] == 0
        state = await unit.http.put(f"{BASE}/sandbox/control", json={"rate_500": 0}, auth=owner)
        assert state.json()["refused"] == {"429": 1, "500": 1}
        await unit.http.put(f"{BASE}/sandbox/control", json={"expire_tokens": True}, auth=owner)
        gone = await unit.http.get(f"{BASE}/data/v1/customobjects", headers=headers)
        assert gone.status_code == 401


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    async with sandbox_unit(tmp_path) as unit:
        headers = await _authed(unit)
        await _create(unit, headers)
        await unit.http.post(
            f"{BASE}/hub/v1/dataevents/key:audience/rowset",
            json=[{"keys": {"ContactKey": "kept"}, "values": {"Score": "5"}}],
            headers=headers,
        )
    async with sandbox_unit(tmp_path) as unit:
        headers = await _authed(unit)
        found = await unit.http.get(
            f"{BASE}/data/v1/customobjects", params={"$search": "Audience"}, headers=headers
        )
        assert found.json()["items"][0]["key"] == "audience"
        read = await unit.http.get(
            f"{BASE}/data/v1/customobjectdata/key/audience/rowset", headers=headers
        )
        assert read.json()["items"][0]["keys"] == {"contactkey": "kept"}


async def test_pages_show_extensions_and_rows_to_the_owner(tmp_path: Path) -> None:
    async with sandbox_unit(tmp_path) as unit:
        headers = await _authed(unit)
        await _create(unit, headers)
        await unit.http.post(
            f"{BASE}/hub/v1/dataevents/key:audience/rowset",
            json=[{"keys": {"ContactKey": "<b>x</b>"}, "values": {"Score": "41"}}],
            headers=headers,
        )
        asked = await unit.http.get(f"{BASE}/sandbox")
        assert asked.status_code == 401 and "Basic" in asked.headers["www-authenticate"]
        owner = httpx.BasicAuth(CLIENT_ID, SECRET)
        listing = await unit.http.get(f"{BASE}/sandbox", auth=owner)
        assert "href='/sandbox/extensions/audience'" in listing.text
        assert "<td>4</td><td>1</td>" in listing.text  # fields, rows
        rows = await unit.http.get(f"{BASE}/sandbox/extensions/audience", auth=owner)
        assert "<td>&lt;b&gt;x&lt;/b&gt;</td>" in rows.text and "<td>41</td>" in rows.text
        assert "<p>1 row.</p>" in rows.text


async def test_adding_fields_keeps_rows_valid(tmp_path: Path) -> None:
    async with sandbox_unit(tmp_path) as unit:
        headers = await _authed(unit)
        created = await _create(unit, headers)
        await unit.http.post(
            f"{BASE}/hub/v1/dataevents/key:audience/rowset",
            json=[{"keys": {"ContactKey": "a"}, "values": {}}],
            headers=headers,
        )
        url = f"{BASE}/data/v1/customobjects/{created['id']}/fields"

        async def add(field: dict[str, object]) -> httpx.Response:
            return await unit.http.post(url, json={"fields": [field]}, headers=headers)

        required = await add({"name": "Tier", "type": "Text", "isNullable": False})
        assert required.status_code == 400 and required.json()["errorcode"] == 10002
        key = await add({"name": "Other", "type": "Text", "length": 5, "isPrimaryKey": True})
        assert key.status_code == 400
        again = await add({"name": "mobile", "type": "Phone"})
        assert again.status_code == 400 and "already exists" in again.json()["message"]
        fine = await add({"name": "Tier", "type": "Text", "length": 10})
        assert fine.status_code == 200
        assert [f["name"] for f in fine.json()["fields"]][-1] == "Tier"
        assert fine.json()["fields"][-1]["ordinal"] == 4
