"""A number's inbound configuration, end to end in process: peoplesync's service reads and
changes it at the sandbox provider (Resources API), the requests and answers valid against
Infobip's published document, and a handset's reply then follows the configuration."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from peoplesync.clock import ManualClock
from peoplesync.messaging.accounts import ProviderAccounts
from peoplesync.messaging.hook_urls import hook_urls
from peoplesync.messaging.inbound_number_service import InboundNumberRequest, inbound_number
from peoplesync.messaging.inbound_numbers import Action, InboundNumberError, NumberState
from peoplesync.messaging.providers.infobip.inbound_config import PATH, forward_body
from peoplesync.messaging.tables import inbound_messages
from peoplesync.secret_box import SecretBox
from tests.infobip_contract import request_errors, response_errors
from tests.integration.messaging.conftest import KEY, PROVIDER, PUBLIC, Rig

NUMBER = "385981000123"
SHARED = "385981000999"
OTHER_APP = "https://other-app.example.com/mo"


@pytest.fixture
async def accounts(rig: Rig, clock: ManualClock) -> ProviderAccounts:
    accounts = ProviderAccounts(rig.store.engine, rig.box, clock)
    await accounts.add("main", PROVIDER, KEY)
    return accounts


async def _ask(
    rig: Rig, accounts: ProviderAccounts, action: Action | None = None, number: str = NUMBER
) -> dict[str, Any]:
    request = InboundNumberRequest("main", f"+{number}", "sms", action)
    status = await inbound_number(accounts, rig.box, PUBLIC, request, http=rig.control)
    return status.as_json()


async def test_create_then_a_reply_follows_it_then_remove(
    rig: Rig, accounts: ProviderAccounts
) -> None:
    before = await _ask(rig, accounts)
    assert (before["state"], before["action"]) == ("not_configured", "create")
    created = await _ask(rig, accounts, Action.CREATE)
    assert (created["state"], created["action"]) == ("ours", "remove")
    assert created["forwards_to"] == f"{PUBLIC}/hooks/messaging/main/inbound"  # no token shown
    assert created["configuration_key"]

    # a reply to the number now reaches peoplesync without any sandbox-wide MO URL
    answer = await rig.control.post(
        "/control/inbound", json={"from": "385911234502", "to": NUMBER, "text": "YES please"}
    )
    assert answer.status_code == 200, answer.text
    assert await rig.dispatch() == 1
    async with rig.store.engine.connect() as conn:
        texts = (await conn.execute(sa.select(inbound_messages.c.text))).scalars().all()
    assert texts == ["YES please"]

    removed = await _ask(rig, accounts, Action.REMOVE)
    assert (removed["state"], removed["configuration_key"]) == ("not_configured", None)
    refused = await rig.control.post(
        "/control/inbound", json={"from": "385911234502", "to": NUMBER, "text": "again"}
    )
    assert refused.status_code == 400  # no configuration and no MO URL: nowhere to go


async def test_use_default_reassigns_another_applications_configuration(
    rig: Rig, accounts: ProviderAccounts
) -> None:
    theirs = await rig.control.post(PATH, json=forward_body(NUMBER, "SMS", OTHER_APP))
    assert theirs.status_code == 200
    key = theirs.json()["configurationKey"]
    status = await _ask(rig, accounts)
    assert (status["state"], status["action"]) == ("elsewhere", "use-default")
    assert status["forwards_to"] == OTHER_APP

    with pytest.raises(InboundNumberError, match="another application") as refused:
        await _ask(rig, accounts, Action.CREATE)
    assert refused.value.record == NUMBER and "use-default" in str(refused.value)

    after = await _ask(rig, accounts, Action.USE_DEFAULT)
    assert (after["state"], after["configuration_key"]) == ("ours", key)  # the same one


async def test_a_second_create_is_refused_naming_the_state(
    rig: Rig, accounts: ProviderAccounts
) -> None:
    await _ask(rig, accounts, Action.CREATE)
    with pytest.raises(InboundNumberError, match="already forwards its replies to peoplesync"):
        await _ask(rig, accounts, Action.CREATE)
    with pytest.raises(InboundNumberError, match="has no inbound configuration"):
        await _ask(rig, accounts, Action.REMOVE, number="385981000124")


async def test_a_shared_number_cannot_be_changed(rig: Rig, accounts: ProviderAccounts) -> None:
    with pytest.raises(InboundNumberError, match="403") as refused:
        await _ask(rig, accounts, Action.CREATE, number=SHARED)
    assert "shared" in refused.value.hint and "numbers:manage" in refused.value.hint
    assert KEY not in str(refused.value)


async def test_a_changed_token_still_counts_as_ours(rig: Rig, accounts: ProviderAccounts) -> None:
    stale = hook_urls(PUBLIC, SecretBox(Fernet.generate_key()), "main").inbound_url
    assert stale is not None
    await rig.control.post(PATH, json=forward_body(NUMBER, "SMS", stale))
    assert (await _ask(rig, accounts))["state"] == NumberState.OURS.value


async def test_requests_and_answers_match_the_published_document(rig: Rig) -> None:
    body = forward_body(NUMBER, "SMS", f"{PUBLIC}/hooks/messaging/main/inbound?token=t")
    assert request_errors(PATH, body) == []
    created = await rig.control.post(PATH, json=body)
    assert response_errors(PATH, 200, created.json()) == []
    listed = await rig.control.get(PATH, params={"channel": "SMS", "number": NUMBER})
    assert response_errors(PATH, 200, listed.json(), method="get") == []
    bad = await rig.control.post(PATH, json={"channel": "PIGEON", "number": "x"})
    assert bad.status_code == 400
    assert {v["property"] for v in bad.json()["violations"]} == {"channel", "number"}
