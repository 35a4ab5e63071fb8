"""Journey Builder's calls on the web app, on SQLite and PostgreSQL: config.json, signed
execute calls that enqueue once per contact, the seed's statuses, and the Reports activity."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from peoplesync.clock import ManualClock
from peoplesync.errors import NotFoundError, SettingError
from peoplesync.marketing_cloud.signed_body import key_bytes, sign
from peoplesync.marketing_cloud.tables import business_units, reply_triggers
from peoplesync.marketing_cloud.units import BusinessUnits, UnitSettings
from peoplesync.messaging.message import Outcome, SendResult
from peoplesync.messaging.outbox import Outbox
from peoplesync.messaging.report_store import ReportStore
from peoplesync.messaging.reports import parse_delivery_reports
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.secret_box import SecretBox
from peoplesync.web.app import create_app
from tests.services import services_on
from tests.web.conftest import FAST_HASHER

JWT_SECRET = "jwt-signing-secret-of-the-installed-package"
SMS_ARGS: list[dict[str, Any]] = [
    {"channel": "sms"},
    {"text": "Hello from the journey"},
    {"shortenUrl": "false"},
    {"trackClicks": "false"},
    {"phone": ""},
    {"phone": "+385 91 555 0101"},
]


def execute_body(run: str, arguments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "inArguments": arguments if arguments is not None else SMS_ARGS,
        "outArguments": [],
        "activityObjectID": "activity-1",
        "journeyId": "journey-v1",
        "activityId": "activity-1",
        "definitionInstanceId": run,
        "activityInstanceId": f"instance-{run}",
        "keyValue": f"contact-{run}",
        "mode": 0,
    }


def signed(claims: dict[str, Any], secret: str = JWT_SECRET) -> dict[str, Any]:
    return {
        "content": sign(claims, key_bytes(secret)),
        "headers": {"content-type": "application/jwt"},
    }


@pytest.fixture
async def journey(
    store: SqlPeopleStore, clock: ManualClock, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    box = SecretBox(Fernet.generate_key())
    units = BusinessUnits(store.engine, box, clock)
    await units.add(
        UnitSettings(
            name="acme",
            mid="5100123",
            client_id="client-1",
            auth_url="https://acme.auth.example",
            client_secret="client-secret",
            jwt_secret=JWT_SECRET,
            default_account="main",
        )
    )
    app = create_app(services_on(store, tmp_path / "data", box=box), password_hasher=FAST_HASHER)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://hub.example") as client:
        yield client


async def test_config_json_is_built_for_the_host_it_was_asked_on(
    journey: httpx.AsyncClient,
) -> None:
    answer = await journey.get("/journey/acme/message/config.json")
    assert answer.status_code == 200
    config = answer.json()
    assert (
        config["arguments"]["execute"]["url"] == "https://hub.example/journey/acme/message/execute"
    )
    assert (await journey.get("/journey/nobody/message/config.json")).status_code == 404
    assert (await journey.get("/journey/acme/nothing/config.json")).status_code == 404
    split = (await journey.get("/journey/acme/delivery-split/config.json")).json()
    assert split["type"] == "RESTDECISION"


async def test_a_signed_execute_enqueues_once_across_journey_builder_retries(
    journey: httpx.AsyncClient, store: SqlPeopleStore, clock: ManualClock
) -> None:
    calls = [
        journey.post("/journey/acme/message/execute", **signed(execute_body("run-1")))
        for _ in range(3)
    ]
    answers = await asyncio.gather(*calls)
    assert {a.status_code for a in answers} == {200}
    bodies = [a.json() for a in answers]
    assert {b["messageStatus"] for b in bodies} == {"Success: Message pending"}
    assert len({b["messageId"] for b in bodies}) == 1
    outbox = Outbox(store.engine, clock)
    queued = await outbox.recent(limit=10)
    assert len(queued) == 1
    message = queued[0]
    assert message.recipient.endswith("385915550101")
    callback = json.loads(message.callback_data or "{}")
    assert callback["MID"] == "5100123" and callback["ContactKey"] == "contact-run-1"
    other = await journey.post("/journey/acme/message/execute", **signed(execute_body("run-2")))
    assert other.json()["messageId"] != bodies[0]["messageId"]


async def test_a_bad_signature_is_refused_with_401_and_logged_without_the_secret(
    journey: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        answer = await journey.post(
            "/journey/acme/message/execute", **signed(execute_body("x"), "wrong-secret")
        )
    assert answer.status_code == 401
    assert "refused" in caplog.text and JWT_SECRET not in caplog.text
    unsigned = await journey.post("/journey/acme/message/execute", json=execute_body("y"))
    assert unsigned.status_code == 401
    for step in ("save", "validate", "publish", "stop"):
        ok = await journey.post(
            f"/journey/acme/message/{step}", **signed({"activityObjectID": "a"})
        )
        assert (ok.status_code, ok.json()) == (200, {})


async def test_request_problems_come_back_as_the_seed_statuses_on_200(
    journey: httpx.AsyncClient,
) -> None:
    no_phone = [each for each in SMS_ARGS if "phone" not in each] + [{"phone": ""}]
    answer = await journey.post(
        "/journey/acme/message/execute", **signed(execute_body("p", no_phone))
    )
    assert answer.status_code == 200
    assert answer.json()["messageStatus"] == "Error: Missing phone number in request"
    assert answer.json()["messageId"]  # stored as invalid, so it shows among messages
    no_flag = [each for each in SMS_ARGS if "trackClicks" not in each]
    flagless = await journey.post(
        "/journey/acme/message/execute", **signed(execute_body("f", no_flag))
    )
    assert flagless.json()["messageStatus"] == "Error: Missing trackClicks flag"
    long_text = [each for each in SMS_ARGS if "text" not in each] + [{"text": "x" * 5000}]
    too_long = await journey.post(
        "/journey/acme/message/execute", **signed(execute_body("t", long_text))
    )
    assert too_long.json()["messageStatus"] == "Error: Invalid text length"
    assert too_long.json()["messageId"]  # stored with its error, visible among messages
    broken = await journey.post(
        "/journey/acme/message/execute", **signed({"inArguments": [], "activityId": "a"})
    )
    assert broken.status_code == 400 and "definitionInstanceId" in broken.text


async def test_the_reports_activity_answers_from_the_stored_reports(
    journey: httpx.AsyncClient, store: SqlPeopleStore, clock: ManualClock
) -> None:
    sent = await journey.post("/journey/acme/message/execute", **signed(execute_body("r")))
    message_id = sent.json()["messageId"]

    def report_call(activity: str) -> dict[str, Any]:
        body = execute_body("r", [{"messageId": message_id}])
        return signed(body | {"activityId": "reports-1", "activityObjectID": "reports-1"})

    before = await journey.post("/journey/acme/reports/execute", **report_call("reports"))
    assert before.json()["statusGroupName"] == "NOT_AVAILABLE"
    assert before.json()["seen"] == "NOT_SEEN"
    outbox = Outbox(store.engine, clock)
    claimed = await outbox.claim(1, timedelta(seconds=60))
    await outbox.record(
        [SendResult(message_id, Outcome.ACCEPTED, "PENDING", "PENDING_ACCEPTED")],
        claimed_by=claimed[0].claimed_by or "",
    )
    report = {
        "messageId": message_id,
        "to": "385915550101",
        "sentAt": "2026-12-05T10:00:00.000+0000",
        "doneAt": "2026-12-05T10:00:05.000+0000",
        "status": {"groupName": "DELIVERED", "name": "DELIVERED_TO_HANDSET"},
        "error": {"name": "NO_ERROR"},
    }
    await ReportStore(store.engine, clock).apply_delivery(
        parse_delivery_reports({"results": [report]}).reports
    )
    after = (await journey.post("/journey/acme/reports/execute", **report_call("reports"))).json()
    assert after["statusGroupName"] == "DELIVERED"
    assert after["statusName"] == "DELIVERED_TO_HANDSET"
    assert after["doneAt"] == "2026-12-05T04:00:05.000"  # server time, UTC-6
    split = await journey.post("/journey/acme/delivery-split/execute", **report_call("split"))
    assert split.json() == {"branchResult": "DELIVERED"}
    clicks = await journey.post("/journey/acme/click-split/execute", **report_call("clicks"))
    assert clicks.json() == {"branchResult": "NOT_CLICKED"}


async def test_only_the_activity_pages_may_be_framed_and_only_by_marketing_cloud(
    journey: httpx.AsyncClient,
) -> None:
    ui = await journey.get("/journey/acme/message/ui")
    assert ui.status_code == 200 and "journey_message.js" in ui.text
    assert "X-Frame-Options" not in ui.headers
    policy = ui.headers["Content-Security-Policy"]
    assert (
        "frame-ancestors 'self' https://*.exacttarget.com https://*.marketingcloudapps.com"
        in policy
    )
    assert "script-src 'self'" in policy
    login = await journey.get("/login")
    assert login.headers["X-Frame-Options"] == "DENY"
    assert (await journey.get("/journey/nobody/message/ui")).status_code == 404


async def test_stopping_the_journey_keeps_queued_sends_and_refuses_new_ones(
    journey: httpx.AsyncClient, store: SqlPeopleStore, clock: ManualClock
) -> None:
    limited = [*SMS_ARGS, {"speedLimitAmount": "500"}, {"speedLimitUnit": "HOUR"}]
    first = await journey.post(
        "/journey/acme/message/execute", **signed(execute_body("s1", limited))
    )
    second = await journey.post(
        "/journey/acme/message/execute", **signed(execute_body("s2", limited))
    )
    assert (
        first.json()["messageStatus"]
        == second.json()["messageStatus"]
        == ("Success: Message pending")
    )
    outbox = Outbox(store.engine, clock)
    slots = sorted(m.send_after for m in await outbox.recent(limit=10))
    assert (slots[1] - slots[0]).total_seconds() == pytest.approx(7.2)
    stop = {"activityObjectID": "activity-1", "interactionId": "journey-v1"}
    stopped = await journey.post("/journey/acme/message/stop", **signed(stop))
    assert stopped.status_code == 200
    late = await journey.post(
        "/journey/acme/message/execute", **signed(execute_body("s3", limited))
    )
    assert late.json() == {"messageStatus": "Error: Journey stopped", "messageId": ""}
    states = {m.state for m in await outbox.recent(limit=10)}
    assert states == {"queued"}  # the two queued before the stop still go at their slots
    retried = await journey.post(
        "/journey/acme/message/execute", **signed(execute_body("s1", limited))
    )
    assert retried.json()["messageId"] == first.json()["messageId"]


async def test_a_journey_asking_for_reply_events_is_remembered_per_message(
    journey: httpx.AsyncClient, store: SqlPeopleStore
) -> None:
    asked = [*SMS_ARGS, {"triggerEventOnResponse": "true"}]
    first = await journey.post(
        "/journey/acme/message/execute", **signed(execute_body("t-1", asked))
    )
    again = await journey.post(
        "/journey/acme/message/execute", **signed(execute_body("t-1", asked))
    )
    plain = await journey.post("/journey/acme/message/execute", **signed(execute_body("t-2")))
    assert first.json()["messageId"] == again.json()["messageId"]
    async with store.engine.connect() as conn:
        kept = (await conn.execute(sa.select(reply_triggers.c.message_id))).scalars().all()
    assert kept == [first.json()["messageId"]]
    assert plain.json()["messageId"] not in kept


async def test_journey_calls_answered_before_the_routes_keep_the_guards_and_limits(
    journey: httpx.AsyncClient,
) -> None:
    """The POSTs are answered in plain ASGI: still JSON with the security headers, a body
    over 1 MB refused unread, and paths of another shape left to the app's routes."""
    sent = await journey.post("/journey/acme/message/execute", **signed(execute_body("g-1")))
    assert sent.status_code == 200
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["x-content-type-options"] == "nosniff"
    assert "x-frame-options" not in sent.headers  # framed by Journey Builder
    huge = await journey.post(
        "/journey/acme/message/execute",
        content=b"x" * 1_000_001,
        headers={"content-type": "application/jwt"},
    )
    assert (huge.status_code, huge.json()) == (413, {"error": "the body is over 1 MB"})
    for path in ("/journey/acme/message/execute/more", "/journey/acme//execute"):
        assert (await journey.post(path, **signed(execute_body("g-2")))).status_code == 404
    assert (await journey.post("/journey/acme/message/nothing", content=b"{}")).json() == {
        "error": "no such activity endpoint"
    }
    unit = await journey.post("/journey/nobody/message/execute", **signed(execute_body("g-3")))
    assert (unit.status_code, unit.json()) == (404, {"error": "no such business unit"})
    config = await journey.get("/journey/acme/message/config.json")
    assert config.status_code == 200  # GETs still reach the routes


SALT = "0x6b657973616c74"  # Key Management shows the salt as hex; it signs with its bytes


async def test_a_call_naming_a_customer_key_is_verified_with_that_salt_key_only(
    journey: httpx.AsyncClient,
    store: SqlPeopleStore,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = journey._transport.app  # type: ignore[attr-defined]
    units: BusinessUnits = app.state.journey.units
    await units.set_salt_key("acme", "sms-salt", SALT)
    await units.set_salt_key("acme", "other-salt", "0x0102030405")
    app.state.journey.cache._kept.clear()  # the unit's keys changed: no 10 s wait in a test
    url = "/journey/acme~sms-salt/message/execute"
    ok = await journey.post(url, **signed(execute_body("salted"), SALT))
    assert ok.status_code == 200, ok.text
    assert ok.json()["messageStatus"] == "Success: Message pending"
    with caplog.at_level(logging.WARNING):
        # the package's secret does not pass for the key the activity names ...
        package = await journey.post(url, **signed(execute_body("p")))
        # ... nor does another of the unit's salt keys, nor one the unit does not have
        other = await journey.post(
            "/journey/acme~other-salt/message/execute",
            **signed(execute_body("o"), SALT),
        )
        unknown = await journey.post(
            "/journey/acme~nobody/message/execute", **signed(execute_body("u"), SALT)
        )
        unsigned = await journey.post(url, json=execute_body("j"))
    assert [a.status_code for a in (package, other, unknown, unsigned)] == [401] * 4
    assert "no salt key named 'nobody'" in unknown.json()["error"]
    assert SALT not in caplog.text and "6b657973616c74" not in caplog.text
    # a named key does not verify a call that names no key; the package secret still does
    unnamed = await journey.post("/journey/acme/message/execute", **signed(execute_body("n"), SALT))
    assert unnamed.status_code == 401
    plain = await journey.post("/journey/acme/message/execute", **signed(execute_body("q")))
    assert plain.status_code == 200
    for step in ("save", "validate", "publish", "stop"):
        life = await journey.post(
            f"/journey/acme~sms-salt/message/{step}",
            **signed({"activityObjectID": "a"}, SALT),
        )
        assert (life.status_code, life.json()) == (200, {})
    queued = await Outbox(store.engine, clock).recent(limit=10)
    assert len(queued) == 2  # "salted" and "q"
    config = await journey.get("/journey/acme~sms-salt/message/config.json")
    assert config.json()["arguments"]["execute"]["customerKey"] == "sms-salt"
    assert config.json()["arguments"]["execute"]["url"].endswith("/acme~sms-salt/message/execute")
    missing = await journey.get("/journey/acme~nobody/message/config.json")
    assert missing.status_code == 404
    empty = await journey.post("/journey/acme~/message/execute", **signed(execute_body("e")))
    assert empty.status_code == 401
    ui = await journey.get("/journey/acme~sms-salt/message/ui")
    assert ui.status_code == 200
    await units.remove_salt_key("acme", "sms-salt")
    app.state.journey.cache._kept.clear()
    removed = await journey.post(url, **signed(execute_body("after"), SALT))
    assert removed.status_code == 401


async def test_salt_keys_are_sealed_at_rest_kept_on_edit_and_the_old_single_key_still_works(
    store: SqlPeopleStore, clock: ManualClock
) -> None:
    box = SecretBox(Fernet.generate_key())
    units = BusinessUnits(store.engine, box, clock)
    settings = UnitSettings(
        name="beta",
        mid="5100999",
        client_id="client-b",
        auth_url="https://beta.auth.example",
        client_secret="client-secret",
        salt_key=SALT,
        salt_key_name="first",
    )
    added = await units.add(settings)
    assert added.salt_key_names == ("first",) and added.has_salt_key
    edited = await units.edit(
        "beta", replace(settings, client_secret="", salt_key="0xabcdef", salt_key_name="second")
    )
    assert edited.salt_key_names == ("first", "second")
    async with store.engine.connect() as conn:
        sealed = (await conn.execute(sa.select(business_units.c.salt_key_sealed))).scalar_one()
    assert "6b657973616c74" not in sealed and "first" not in sealed
    keys = await units.keys("beta")
    assert keys.keys_for("first") == (b"keysalt",)
    assert keys.keys_for("second") == (bytes.fromhex("abcdef"),)
    assert keys.keys_for("third") is None and keys.keys_for(None) == ()
    # a unit whose one salt key was stored before keys had names: the unnamed key
    async with store.engine.begin() as conn:
        await conn.execute(sa.update(business_units).values(salt_key_sealed=box.seal(SALT)))
    old = await units.keys("beta")
    assert old.signing_keys == (b"keysalt",) and old.info.salt_key_names == ()
    assert old.info.has_salt_key
    with pytest.raises(SettingError) as caught:
        await units.set_salt_key("beta", "bad name", SALT)
    assert caught.value.field == "salt_key_name"
    with pytest.raises(NotFoundError):
        await units.remove_salt_key("beta", "never-added")
