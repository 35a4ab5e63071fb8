"""Fixtures for sync tests: the sandbox org (ASGI), a People store, and runners for Lead and Contact."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from peoplesync.clock import SystemClock
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.salesforce.auth import Authenticator, PasswordCredentials
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.sync.inbound import InboundRunner, InboundStep
from peoplesync.sync.mapping import DEFAULT_MAPPINGS
from tests.integration.sandbox.conftest import BASE, Org, open_org


@dataclass
class World:
    org: Org
    store: SqlPeopleStore
    leads: InboundRunner
    contacts: InboundRunner


@pytest.fixture
async def world(tmp_path: Path, store: SqlPeopleStore) -> AsyncIterator[World]:
    async for org in open_org(tmp_path):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=org.app), base_url=BASE
        ) as http:
            credentials = PasswordCredentials(
                org.config.client_id,
                org.config.client_secret,
                org.config.username,
                org.config.password,
            )
            client = SalesforceClient(http, Authenticator(http, BASE, credentials))
            clock = SystemClock()
            leads = InboundRunner(
                client, store, InboundStep("Lead", DEFAULT_MAPPINGS["Lead"]), clock, batch_size=2
            )
            contacts = InboundRunner(
                client,
                store,
                InboundStep("Contact", DEFAULT_MAPPINGS["Contact"]),
                clock,
                batch_size=2,
            )
            yield World(org, store, leads, contacts)
