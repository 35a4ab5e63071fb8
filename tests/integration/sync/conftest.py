"""Fixtures for sync tests: the sandbox org (ASGI), a People store, and runners for Lead and Contact."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from peoplesync.clock import SystemClock
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.sync.inbound.runner import InboundRunner, InboundStep
from peoplesync.sync.mapping import DEFAULT_MAPPINGS
from tests.integration.org_client import asgi_http, client_for
from tests.integration.sandbox.conftest import Org, open_org


@dataclass
class World:
    org: Org
    store: SqlPeopleStore
    leads: InboundRunner
    contacts: InboundRunner


@pytest.fixture
async def world(tmp_path: Path, store: SqlPeopleStore) -> AsyncIterator[World]:
    async for org in open_org(tmp_path):
        async with asgi_http(org) as http:
            client = client_for(org, http)
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
