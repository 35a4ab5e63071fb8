"""Persons without an email: a lost create answer does not make a second Lead."""

from __future__ import annotations

import httpx
import pytest

from peoplesync.clock import SystemClock
from peoplesync.salesforce.failure import SalesforceUnavailableError
from peoplesync.sync.outbound.runner import OutboundRunner, default_steps
from tests.integration.org_client import client_for
from tests.integration.sandbox.conftest import BASE

from .conftest import World
from .test_outbound import LoseFirstCreateAnswer, add, linked, pusher


async def leads_named(world: World, last_name: str) -> list[str]:
    body = await world.org.query(f"SELECT Id FROM Lead WHERE LastName = '{last_name}'")
    return [r["Id"] for r in body["records"]]


async def test_a_lost_create_of_persons_without_email_is_found_by_the_values_sent(
    world: World,
) -> None:
    nameless = [
        await add(world, first_name="Ann", last_name="Noemail", company="Quiet Ltd"),
        await add(world, first_name="Bob", last_name="Noemail", company="Quiet Ltd"),
    ]
    with_email = await add(world, ["kept@example.com"], last_name="Mailer", company="Quiet Ltd")
    transport = LoseFirstCreateAnswer(httpx.ASGITransport(app=world.org.app))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        push = OutboundRunner(
            client_for(world.org, http), world.store, default_steps(), SystemClock()
        )
        with pytest.raises(SalesforceUnavailableError):
            await push.run_once()
        # The create reached the org; its answer was lost.
        assert len(await leads_named(world, "Noemail")) == 2
        report = await push.run_once()
    assert (report.created, report.linked) == (0, 3)
    found = sorted(await leads_named(world, "Noemail"))
    assert sorted([await linked(world, p) for p in nameless]) == found
    assert len(await leads_named(world, "Mailer")) == 1
    assert await linked(world, with_email) == (await leads_named(world, "Mailer"))[0]
    # The attempts are forgotten once the links are committed.
    assert not await world.store.has_create_attempts("salesforce:default")


async def test_same_named_persons_without_email_are_each_created_when_nothing_was_lost(
    world: World,
) -> None:
    await world.org.create("Lead", FirstName="Ann", LastName="Twin", Company="Same Co")
    first = await add(world, first_name="Ann", last_name="Twin", company="Same Co")
    report = await pusher(world).run_once()
    assert report.created == 1
    second = await add(world, first_name="Ann", last_name="Twin", company="Same Co")
    report = await pusher(world).run_once()
    assert report.created == 1
    assert len(await leads_named(world, "Twin")) == 3
    assert await linked(world, first) != await linked(world, second)
    assert not await world.store.has_create_attempts("salesforce:default")
