"""The Message activity's custom data extension on the web app, with the Marketing Cloud
sandbox in process: execute reads the contact's current row and sends with it."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from peoplesync.clock import ManualClock
from peoplesync.marketing_cloud.custom_row_reader import CustomRowReader
from peoplesync.marketing_cloud.units import BusinessUnits, UnitSettings
from peoplesync.messaging.outbox import Outbox
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.secret_box import SecretBox
from peoplesync.web.app import create_app
from tests.integration.marketing_cloud.sandbox_unit import (
    BASE,
    CLIENT_ID,
    MID,
    SECRET,
    SandboxUnit,
    sandbox_unit,
)
from tests.integration.marketing_cloud.test_journey_routes import (
    JWT_SECRET,
    execute_body,
    signed,
)
from tests.services import services_on
from tests.web.conftest import FAST_HASHER

EXTENSION = {
    "name": "Live audience",
    "key": "live-audience",
    "fields": [
        {"name": "ContactKey", "type": "Text", "length": 50, "isPrimaryKey": True},
        {"name": "FirstName", "type": "Text", "length": 50},
        {"name": "Mobile", "type": "Phone"},
    ],
}
ARGS: list[dict[str, Any]] = [
    {"channel": "sms"},
    {"text": "Hello %%FirstName%%"},
    {"shortenUrl": "false"},
    {"trackClicks": "false"},
    {"customDataExtension": "live-audience"},
    {"customPhoneFields": "Mobile"},
]


@dataclasses.dataclass
class Rig:
    journey: httpx.AsyncClient
    unit: SandboxUnit
    outbox: Outbox


@pytest.fixture
async def rig(store: SqlPeopleStore, clock: ManualClock, tmp_path: Path) -> AsyncIterator[Rig]:
    box = SecretBox(Fernet.generate_key())
    await BusinessUnits(store.engine, box, clock).add(
        UnitSettings(
            name="acme",
            mid=MID,
            client_id=CLIENT_ID,
            auth_url=f"{BASE}/",
            client_secret=SECRET,
            jwt_secret=JWT_SECRET,
            default_account="main",
        )
    )
    app = create_app(services_on(store, tmp_path / "data", box=box), password_hasher=FAST_HASHER)
    async with sandbox_unit(tmp_path / "mc") as unit:
        token = {"Authorization": f"Bearer {await unit.raw_token()}"}
        created = await unit.http.post(
            f"{BASE}/data/v1/customobjects", json=EXTENSION, headers=token
        )
        assert created.status_code == 201, created.text
        app.state.journey = dataclasses.replace(app.state.journey, rows=CustomRowReader(unit.http))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://hub.example") as http:
            yield Rig(http, unit, Outbox(store.engine, clock))


async def _row(rig: Rig, contact: str, first: str, mobile: str) -> None:
    token = {"Authorization": f"Bearer {await rig.unit.raw_token()}"}
    answer = await rig.unit.http.put(
        f"{BASE}/hub/v1/dataevents/key:live-audience/rows/ContactKey:{contact}",
        json={"values": {"FirstName": first, "Mobile": mobile}},
        headers=token,
    )
    assert answer.is_success, answer.text


async def _execute(rig: Rig, run: str) -> dict[str, Any]:
    answer = await rig.journey.post(
        "/journey/acme/message/execute", **signed(execute_body(run, ARGS))
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_execute_sends_with_the_rows_current_values(rig: Rig) -> None:
    await _row(rig, "contact-run-1", "Ana", "+385 91 555 0101")
    await _row(rig, "contact-run-1", "Anamarija", "+385 91 555 0102")  # updated in the journey
    answer = await _execute(rig, "run-1")
    assert answer["messageStatus"] == "Success: Message pending"
    message = await rig.outbox.get(answer["messageId"])
    assert message is not None
    assert message.request["text"] == "Hello Anamarija"
    assert message.request["to"].replace(" ", "") == "+385915550102"


async def test_a_contact_without_a_row_gets_a_status_not_an_ejection(rig: Rig) -> None:
    answer = await _execute(rig, "run-2")
    assert answer == {
        "messageStatus": "Error: Contact not found in custom data extension",
        "messageId": "",
    }


async def test_marketing_cloud_refusing_is_a_status(rig: Rig) -> None:
    await _row(rig, "contact-run-3", "Ana", "+385 91 555 0101")
    rig.unit.knobs.fail_next_500 = 20  # every retry of the read fails
    answer = await _execute(rig, "run-3")
    assert answer["messageStatus"] == "Error: Custom data extension unavailable"
