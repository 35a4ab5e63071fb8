"""The sandbox's journey runner in process against a stand-in activity (``httpx.MockTransport``):
signed bodies, the execute shape, retries only after 5xx / timeouts / network errors, ejection,
``concurrentRequests``, RESTDECISION outcomes, injected Journey Builder retries, Wait Until
Event resumed by an event in the sandbox store or timing out, and the stored paths."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import jwt as pyjwt
import pytest

from peoplesync.sandbox.marketing_cloud.journey_model import JourneyProblem, load_journey
from peoplesync.sandbox.marketing_cloud.journey_runner import JourneyRunner, RunOptions
from peoplesync.sandbox.marketing_cloud.journey_store import JourneyStore
from peoplesync.sandbox.marketing_cloud.store import SandboxStore

SECRET = "the-installed-package-jwt-secret-for-tests"
BASE = "https://activity.test"
CONTACTS = ["ok-1", "ok-2", "ok-3", "ok-4", "flaky-500", "net-err", "late", "bad-400", "dead-500"]


class Activity:
    """Answers like an activity: out-arguments per contact, faults chosen by the contact key."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.lifecycle: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.sends: dict[tuple[str, str], str] = {}

    def config(self, kind: str) -> dict[str, Any]:
        root = f"{BASE}/{kind}/"
        config: dict[str, Any] = {
            "type": "RESTDECISION" if kind == "split" else "REST",
            "arguments": {
                "execute": {
                    "url": f"{root}execute",
                    "useJwt": True,
                    "timeout": 1_000,
                    "retryCount": 2,
                    "retryDelay": 0,
                    "concurrentRequests": 3,
                    "inArguments": [{"contactKey": "{{Contact.Key}}"}, {"channel": "default"}],
                    "outArguments": [{"messageId": ""}],
                }
            },
            "configurationArguments": {
                step: {"url": f"{root}{step}", "useJwt": True}
                for step in ("save", "validate", "publish")
            },
        }
        if kind == "split":
            config["outcomes"] = [{"arguments": {"branchResult": name}} for name in ("EVEN", "ODD")]
        return config

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        kind, step = request.url.path.strip("/").split("/")
        if step == "config.json":
            return httpx.Response(200, json=self.config(kind))
        assert request.headers["content-type"] == "application/jwt"
        body = pyjwt.decode(request.content, SECRET.encode(), algorithms=["HS256"])
        if step != "execute":
            self.lifecycle.append(f"{kind}/{step}")
            return httpx.Response(200, json={})
        self.calls.append({**body, "u": request.url.path})
        contact = body["keyValue"]
        tries = sum(
            1 for c in self.calls if c["keyValue"] == contact and c["u"] == request.url.path
        )
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.01)
        finally:
            self.in_flight -= 1
        if kind == "send":
            if contact == "flaky-500" and tries == 1:
                return httpx.Response(503, json={"error": "busy"})
            if contact == "net-err" and tries == 1:
                raise httpx.ConnectError("refused", request=request)
            if contact == "late" and tries < 3:
                raise httpx.ReadTimeout("slow", request=request)
            if contact == "bad-400":
                return httpx.Response(400, json={"error": "no"})
            if contact == "dead-500":
                return httpx.Response(500, json={"error": "down"})
            pair = (body["activityId"], body["definitionInstanceId"])
            message = self.sends.setdefault(pair, f"m-{len(self.sends)}")
            return httpx.Response(200, json={"messageId": message})
        even = int(contact.rsplit("-", 1)[-1]) % 2 == 0 if contact[-1].isdigit() else False
        return httpx.Response(200, json={"branchResult": "EVEN" if even else "ODD"})


JOURNEY: dict[str, Any] = {
    "name": "runner",
    "entry": {"data_extension": "entry", "event_definition_key": "DEAudience-r"},
    "activities": [
        {
            "key": "SEND-1",
            "type": "custom",
            "config_url": f"{BASE}/send/config.json",
            "in_arguments": [{"channel": "sms"}, {"to": '{{Event.DEAudience-r."Phone"}}'}],
            "next": "DECIDE-1",
        },
        {
            "key": "DECIDE-1",
            "type": "custom",
            "config_url": f"{BASE}/split/config.json",
            "in_arguments": [{"messageId": "{{Interaction.SEND-1.messageId}}"}],
            "outcomes": {"EVEN": "REPLY-1", "ODD": None},
        },
        {
            "key": "REPLY-1",
            "type": "wait_until_event",
            "event_definition_key": "Reply",
            "timeout_seconds": 1.5,
            "next": None,
        },
    ],
}


async def _entry(store: SandboxStore) -> None:
    await store.save_extension(
        {
            "id": "ext-1",
            "key": "entry",
            "name": "Entry",
            "isSendable": True,
            "fields": [
                {"name": "Key", "isPrimaryKey": True},
                {"name": "Phone", "isPrimaryKey": False},
            ],
        }
    )
    await store.upsert_rows(
        "ext-1", [(c, {"Key": c, "Phone": f"+38591{n:04d}"}) for n, c in enumerate(CONTACTS)]
    )


@pytest.fixture
async def stores(tmp_path: Path) -> Any:
    store = SandboxStore(tmp_path / "marketing-cloud.sqlite3")
    journeys = JourneyStore(tmp_path)
    await store.open()
    await journeys.open()
    await _entry(store)
    yield store, journeys
    await journeys.close()
    await store.close()


async def test_the_runner_calls_as_journey_builder_does(stores: Any) -> None:
    store, journeys = stores
    activity = Activity()

    options = RunOptions(jwt_secret=SECRET, inject_retry_rate=0.5, seed=3, poll_seconds=0.05)
    async with httpx.AsyncClient(transport=httpx.MockTransport(activity)) as http:
        runner = JourneyRunner(load_journey(JOURNEY), options, http, store, journeys)

        async def reply_from_ok_2() -> None:
            while True:
                path = await _path(journeys, runner.run_id, "ok-2")
                if any(step["activity"] == "DECIDE-1" for step in path):
                    await store.add_event("e-1", "Reply", "ok-2", {}, time.time())
                    return
                await asyncio.sleep(0.05)

        replier = asyncio.create_task(reply_from_ok_2())
        summary = await runner.run()
        await replier
    assert activity.lifecycle == [
        "send/save",
        "send/validate",
        "send/publish",
        "split/save",
        "split/validate",
        "split/publish",
    ]
    assert summary["contacts"] == summary["finished"] == len(CONTACTS)
    assert summary["ejected_at"] == {"SEND-1": 2}  # 400 at once; 500 after three tries
    assert activity.most_in_flight <= 3 * 2  # concurrentRequests per activity
    sends = [c for c in activity.calls if c["u"] == "/send/execute"]
    paths = {c: await _path(journeys, runner.run_id, c) for c in CONTACTS}
    injected = {c for c, path in paths.items() if path[1:2] and path[1]["status"] == "retry"}
    tries = {c: sum(1 for s in sends if s["keyValue"] == c) - (c in injected) for c in CONTACTS}
    assert tries == {
        "ok-1": 1, "ok-2": 1, "ok-3": 1, "ok-4": 1,
        "flaky-500": 2, "net-err": 2, "late": 3, "bad-400": 1, "dead-500": 3,
    }  # fmt: skip
    retry_steps = [s for path in paths.values() for s in path if s["status"] == "retry"]
    assert summary["retries_injected"] == len(retry_steps)  # at both activities
    assert 0 < len(injected) < len(CONTACTS) - 2  # seeded: about half of the sends
    # the activity answered its retries the same
    assert set(summary["retry_answers_differ"].values()) == {0}
    for contact in injected:
        calls = [s for s in sends if s["keyValue"] == contact]
        assert calls[-1] == calls[-2]  # the very same call: same ids, same arguments
    first = next(s for s in sends if s["keyValue"] == "ok-1")
    assert set(first) >= {
        "inArguments",
        "outArguments",
        "activityObjectID",
        "journeyId",
        "activityId",
        "definitionInstanceId",
        "activityInstanceId",
        "keyValue",
        "mode",
    }
    assert first["inArguments"] == [
        {"contactKey": "ok-1"},
        {"channel": "sms"},
        {"to": "+385910000"},
    ]
    assert first["activityId"] == first["activityObjectID"]
    assert summary["branches"]["DECIDE-1"] == {"EVEN": 3, "ODD": 4}  # ok-2, ok-4, flaky-500
    # ok-2 replied: its event resumed it; ok-4 (also EVEN) waited until the timeout.
    ok_2 = await _path(journeys, runner.run_id, "ok-2")
    assert [(s["activity"], s["status"]) for s in ok_2 if s["status"] != "retry"] == [
        ("SEND-1", "ok"),
        ("DECIDE-1", "ok"),
        ("REPLY-1", "event"),
    ]
    assert ok_2[0]["out"]["messageId"].startswith("m-")
    ok_4 = await _path(journeys, runner.run_id, "ok-4")
    assert ok_4[-1]["activity"] == "REPLY-1" and ok_4[-1]["status"] == "timed_out"
    dead = await _path(journeys, runner.run_id, "dead-500")
    assert dead == [dead[0]] and dead[0]["status"] == "ejected" and dead[0]["code"] == 500
    runs = await journeys.runs("runner")
    assert runs[0]["summary"] == json.loads(json.dumps(summary))


async def test_an_entry_without_the_contact_field_is_refused(stores: Any) -> None:
    store, journeys = stores
    journey = {**JOURNEY, "entry": {**JOURNEY["entry"], "contact_key": "Email"}}
    async with httpx.AsyncClient(transport=httpx.MockTransport(Activity())) as http:
        runner = JourneyRunner(
            load_journey(journey), RunOptions(jwt_secret=SECRET), http, store, journeys
        )
        with pytest.raises(JourneyProblem) as raised:
            await runner.run()
    assert raised.value.message == "entry: contact_key field Email is not a field of entry"


async def _path(journeys: JourneyStore, run_id: str, contact: str) -> list[dict[str, Any]]:
    await journeys.flush()
    return await journeys.path(run_id, contact)
