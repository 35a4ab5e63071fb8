"""The sandbox provider in process with its webhooks on peoplesync's web app (``create_app``),
both over ``httpx.ASGITransport``: the Sender sends with the account's report URLs, the
sandbox's clock moves, and its dispatcher posts reports and replies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from peoplesync.clock import ManualClock
from peoplesync.messaging.channels.catalog import Channel
from peoplesync.messaging.hook_urls import hook_urls
from peoplesync.messaging.message import Webhooks
from peoplesync.messaging.outbox import MessageDraft, Outbox
from peoplesync.messaging.provider import Provider
from peoplesync.messaging.providers.infobip.client import (
    InfobipAccount,
    InfobipProvider,
    RetryPolicy,
)
from peoplesync.messaging.sender import Sender
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.sandbox.provider.app import create_provider_app
from peoplesync.sandbox.provider.config import ProviderConfig, ProviderKnobs
from peoplesync.secret_box import SecretBox
from peoplesync.web.app import create_app
from tests.services import services_on
from tests.unit.messaging.test_channel_validation import VALID
from tests.web.conftest import FAST_HASHER

KEY = "sandbox-key-hooks"
PUBLIC = "https://people.test"
PROVIDER = "https://provider.test"


class SandboxClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class FlakyTransport(httpx.AsyncBaseTransport):
    """peoplesync's web app, answering 503 to the next ``fail_next`` calls (a receiver down)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.fail_next = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.fail_next > 0:
            self.fail_next -= 1
            return httpx.Response(503, json={"error": "down"})
        return await self.inner.handle_async_request(request)


@dataclass
class Rig:
    sandbox: Any
    clock: SandboxClock
    hooks: httpx.AsyncClient  # the sandbox's webhook client, on peoplesync's app
    control: httpx.AsyncClient  # calls to the sandbox provider, with its key
    flaky: FlakyTransport
    sender: Sender
    outbox: Outbox
    box: SecretBox
    store: SqlPeopleStore
    providers: dict[str, Provider]
    webhooks: dict[str, Webhooks]

    async def dispatch(self) -> int:
        posted: int = await self.sandbox.reports.dispatch_due()
        return posted


@pytest.fixture
async def rig(tmp_path: Path, store: SqlPeopleStore, clock: ManualClock) -> AsyncIterator[Rig]:
    box = SecretBox(Fernet.generate_key())
    peoplesync = create_app(
        services_on(store, tmp_path / "data", box=box), password_hasher=FAST_HASHER
    )
    sandbox_clock = SandboxClock()
    config = ProviderConfig(tmp_path / "provider", KEY, seed=3, knobs=ProviderKnobs())
    flaky = FlakyTransport(httpx.ASGITransport(app=peoplesync))
    async with httpx.AsyncClient(transport=flaky, base_url=PUBLIC) as hooks:
        app = create_provider_app(
            config, clock=sandbox_clock, webhook_client=hooks, run_reports=False
        )
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PROVIDER) as http,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url=PROVIDER,
                headers={"Authorization": f"App {KEY}"},
            ) as control,
        ):

            async def no_sleep(_: float) -> None:
                return None

            provider = InfobipProvider(
                InfobipAccount("main", PROVIDER, KEY), http, retry=RetryPolicy(2), sleep=no_sleep
            )
            outbox = Outbox(store.engine, clock)
            webhooks = {"main": hook_urls(PUBLIC, box, "main")}
            providers: dict[str, Provider] = {"main": provider}
            sender = Sender(outbox, providers, webhooks, clock)
            yield Rig(
                app.state.provider,
                sandbox_clock,
                hooks,
                control,
                flaky,
                sender,
                outbox,
                box,
                store,
                providers,
                webhooks,
            )


def draft(key: str, channel: Channel, to: str, **extra: Any) -> MessageDraft:
    """A valid message of ``channel`` to ``to`` on the account ``main``."""
    return MessageDraft(key, "main", channel.value, VALID[channel] | {"to": to} | extra)
