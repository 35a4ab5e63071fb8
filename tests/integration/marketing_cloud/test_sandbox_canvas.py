"""The sandbox's canvas in process, against a stand-in activity server: what it keeps in
canvas.json, the lifecycle calls it signs, and the mistakes it refuses by name."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.integration.marketing_cloud.sandbox_unit import (
    BASE,
    CLIENT_ID,
    SECRET,
    SandboxUnit,
    sandbox_unit,
)

ACTIVITY = "https://activity.test/act/"
OWNER = httpx.BasicAuth(CLIENT_ID, SECRET)
JWT_SECRET = "canvas-test-signing-secret-of-32-bytes-or-more"


@dataclass
class ActivityServer:
    """An activity's endpoints: config.json, and save/validate/publish that check the JWT."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    def config(self) -> dict[str, Any]:
        steps = ("save", "validate", "publish")
        return {
            "workflowApiVersion": "1.1",
            "type": "REST",
            "lang": {"en-US": {"name": "Stand-in SMS"}},
            "metaData": {"isConfigured": False, "configOnDrop": True},
            "arguments": {
                "execute": {
                    "inArguments": [{"contactKey": "{{Contact.Key}}"}],
                    "url": f"{ACTIVITY}execute",
                    "useJwt": True,
                }
            },
            "configurationArguments": {
                step: {"url": f"{ACTIVITY}{step}", "useJwt": True} for step in steps
            },
            "userInterfaces": {"configModal": {"url": "ui"}},
        }

    def app(self) -> Starlette:
        async def config(_: Request) -> Response:
            return JSONResponse(self.config())

        async def step(request: Request) -> Response:
            assert request.headers["content-type"] == "application/jwt"
            claims = jwt.decode(await request.body(), JWT_SECRET, algorithms=["HS256"])
            name = request.path_params["step"]
            self.calls.append((name, claims))
            if name in self.refuse:
                return JSONResponse({"error": "missing sender"}, status_code=400)
            return JSONResponse({})

        return Starlette(
            routes=[
                Route("/act/config.json", config),
                Route("/act/{step}", step, methods=["POST"]),
            ]
        )


@pytest.fixture
async def unit(tmp_path: Path) -> AsyncIterator[tuple[SandboxUnit, ActivityServer]]:
    server = ActivityServer()
    async with sandbox_unit(tmp_path) as sandbox:
        transport = httpx.ASGITransport(app=server.app())
        canvas = sandbox.app.state.canvas
        canvas.http = lambda: httpx.AsyncClient(transport=transport)
        canvas.config = dataclasses.replace(canvas.config, jwt_secret=JWT_SECRET)
        token = await sandbox.raw_token()
        created = await sandbox.http.post(
            f"{BASE}/data/v1/customobjects",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "name": "Audience",
                "key": "audience",
                "fields": [
                    {"name": "Key", "type": "Text", "length": 50, "isPrimaryKey": True},
                    {"name": "Mobile", "type": "Phone"},
                ],
            },
        )
        assert created.status_code == 201
        yield sandbox, server


def _page_data(html: str) -> dict[str, Any]:
    found = re.search(r"id='canvas-data'>(.*?)</script>", html)
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def _state(tmp_path: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((tmp_path / "canvas.json").read_text())
    return state


async def _drop(sandbox: SandboxUnit) -> dict[str, Any]:
    page = await sandbox.http.get(
        f"{BASE}/journeys/canvas",
        params={"activity": ACTIVITY, "entry": "audience"},
        auth=OWNER,
    )
    assert page.status_code == 200, page.text
    return _page_data(page.text)


async def test_a_dropped_activity_is_framed_and_answered_as_journey_builder_would(
    unit: tuple[SandboxUnit, ActivityServer], tmp_path: Path
) -> None:
    sandbox, _ = unit
    data = await _drop(sandbox)
    [activity] = data["activities"]
    assert data["open"] == "REST-1"  # configOnDrop
    assert activity["ui"] == f"{ACTIVITY}ui"
    assert activity["activity"]["arguments"]["execute"]["inArguments"] == [
        {"contactKey": "{{Contact.Key}}"}
    ]
    extension = data["interaction"]["triggers"][0]["configurationArguments"]["dataExtensionId"]
    assert [each["key"] for each in data["schema"]] == [
        f"Event.DEAudience-{extension}.Key",
        f"Event.DEAudience-{extension}.Mobile",
    ]
    assert data["schema"][1]["type"] == "Phone"
    assert data["interaction"]["activities"][0]["key"] == "REST-1"
    assert data["tokens"]["token"]  # a real token of the sandbox
    assert _state(tmp_path)["entry"] == "audience"
    again = await _drop(sandbox)  # the same config.json again: still one activity
    assert [each["key"] for each in again["activities"]] == ["REST-1"] and again["open"] is None


async def test_update_activity_is_kept_and_signed_lifecycle_calls_follow(
    unit: tuple[SandboxUnit, ActivityServer], tmp_path: Path
) -> None:
    sandbox, server = unit
    held = (await _drop(sandbox))["activities"][0]["activity"]
    activate = await sandbox.http.post(f"{BASE}/journeys/canvas/activate", auth=OWNER, json={})
    assert activate.json()["activities"][0]["answers"]["validate"]["error"] == "not configured"
    assert server.calls == []  # nothing is validated before it is configured

    update = {
        **held,
        "key": "REST-7",  # the page may not rename the canvas' key
        "arguments": {"execute": {"inArguments": [{"contactKey": "{{Contact.Key}}"}, {"a": 1}]}},
        "metaData": {"isConfigured": True},
    }
    saved = await sandbox.http.post(
        f"{BASE}/journeys/canvas/activities/REST-1", auth=OWNER, json=update
    )
    assert saved.status_code == 200
    kept = _state(tmp_path)["activities"][0]
    assert kept["activity"]["key"] == "REST-1" and kept["activity"]["id"] == held["id"]
    assert kept["activity"]["arguments"]["execute"]["inArguments"][1] == {"a": 1}
    assert kept["answers"]["save"]["status"] == 200
    [(step, claims)] = server.calls
    assert step == "save" and claims["activityObjectID"] == held["id"]
    assert claims["isPublished"] is False

    server.refuse.add("validate")
    refused = await sandbox.http.post(f"{BASE}/journeys/canvas/activate", auth=OWNER, json={})
    answers = refused.json()["activities"][0]["answers"]
    assert answers["validate"]["status"] == 400 and "publish" not in answers
    assert answers["save"]["status"] == 200  # the save call's answer stays shown
    assert answers["validate"]["body"] == {"error": "missing sender"}
    server.refuse.clear()
    await sandbox.http.post(f"{BASE}/journeys/canvas/activate", auth=OWNER, json={})
    assert [step for step, _ in server.calls] == ["save", "validate", "validate", "publish"]
    assert server.calls[-1][1]["isPublished"] is True


async def test_mistakes_are_refused_by_name(unit: tuple[SandboxUnit, ActivityServer]) -> None:
    sandbox, _ = unit
    canvas = f"{BASE}/journeys/canvas"
    assert (await sandbox.http.get(canvas)).status_code == 401  # Basic auth, like /sandbox
    held = (await _drop(sandbox))["activities"][0]["activity"]
    bad = {**held, "arguments": {"execute": {"inArguments": {"phone": "x"}}}}
    answer = await sandbox.http.post(f"{canvas}/activities/REST-1", auth=OWNER, json=bad)
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "updateActivity REST-1: inArguments must be a list of objects."
    }
    huge = {**held, "name": "x" * 1_000_001}
    answer = await sandbox.http.post(f"{canvas}/activities/REST-1", auth=OWNER, json=huge)
    assert answer.status_code == 413
    missing = await sandbox.http.post(f"{canvas}/activities/REST-9", auth=OWNER, json=held)
    assert missing.json() == {"error": "No activity REST-9 on the canvas."}
    page = await sandbox.http.get(canvas, params={"entry": "nope"}, auth=OWNER)
    assert page.status_code == 400 and "entry: no data extension keyed nope." in page.text
    page = await sandbox.http.get(canvas, params={"activity": "ftp://x"}, auth=OWNER)
    assert page.status_code == 400 and "ftp://x is not an http(s) address" in page.text
    page = await sandbox.http.get(canvas, params={"activity": ACTIVITY + "nothing/"}, auth=OWNER)
    assert page.status_code == 502
    assert f"Could not load config.json from {ACTIVITY}nothing/config.json: HTTP 404." in page.text
    script = await sandbox.http.get(f"{canvas}.js")
    assert "initActivity" in script.text


async def test_a_broken_canvas_file_is_named_and_the_sandbox_keeps_serving(
    unit: tuple[SandboxUnit, ActivityServer], tmp_path: Path
) -> None:
    sandbox, _ = unit
    (tmp_path / "canvas.json").write_text("{not json")
    page = await sandbox.http.get(f"{BASE}/journeys/canvas", auth=OWNER)
    assert page.status_code == 500
    assert f"{tmp_path / 'canvas.json'} does not hold a canvas (JSON)" in page.text
    assert (await sandbox.http.get(f"{BASE}/sandbox", auth=OWNER)).status_code == 200
    (tmp_path / "canvas.json").unlink()
    assert [each["key"] for each in (await _drop(sandbox))["activities"]] == ["REST-1"]
