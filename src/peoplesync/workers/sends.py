"""Message sends: rounds of the sender until stopped (``messages work``).

There is no integration status gate in front of a provider, so this loop is not the gated
one; like it, it returns an outcome and tells each round to an event sink.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Protocol

import httpx

from peoplesync.messaging.accounts import AccountChanges
from peoplesync.messaging.hook_urls import hook_urls
from peoplesync.messaging.message import Webhooks
from peoplesync.messaging.provider import Provider
from peoplesync.messaging.providers.infobip.client import InfobipAccount, InfobipProvider
from peoplesync.messaging.sender import Sender, SendRound
from peoplesync.settings import Settings
from peoplesync.wiring import Messaging, messaging
from peoplesync.workers.events import EventSink, PassDone, ignore
from peoplesync.workers.outcome import Finished, Outcome

IDLE_WAIT = 0.2  # seconds between rounds while nothing is due
# Seconds before the next round after one that drained what was due (its claim was not
# full): the messages enqueued meanwhile go in one claim rather than one each few
# milliseconds. On SQLite each claim and answer is a write transaction that an execute
# batch otherwise queues behind (docs/benchmarks.md); an idle sender waits IDLE_WAIT anyway.
GATHER_WAIT = 0.05
TOTALS = ("claimed", "accepted", "rejected", "retried")


class Rounds(Protocol):
    """What the loop needs of a sender."""

    async def run_once(self) -> SendRound: ...

    async def pause(self, idle: float) -> float:
        """Seconds to wait when nothing was due: until the next slot, at most ``idle``."""
        ...


async def open_sender(
    services: Messaging,
    clients: contextlib.AsyncExitStack,
    *,
    delivery_url: str | None = None,
    public_url: str | None = None,
    batch: int = 500,
    lease: float = 300.0,
) -> Sender:
    """A sender over every stored provider account (HTTP clients entered on ``clients``, one
    per CA file an account trusts); with ``public_url`` each message carries its account's
    report URLs on the web app, else ``delivery_url`` for all."""
    accounts = await services.accounts.infobip_accounts()
    by_ca: dict[str | None, httpx.AsyncClient] = {}

    async def client_for(ca_cert: str | None) -> httpx.AsyncClient:
        if ca_cert not in by_ca:
            verify: ssl.SSLContext | bool = (
                ssl.create_default_context(cafile=ca_cert) if ca_cert else True
            )
            by_ca[ca_cert] = await clients.enter_async_context(
                httpx.AsyncClient(timeout=30, verify=verify)
            )
        return by_ca[ca_cert]

    def webhooks_of(name: str) -> Webhooks:
        if public_url:
            return hook_urls(public_url, services.box, name)
        return Webhooks(delivery_url=delivery_url)

    providers: dict[str, Provider] = {
        name: InfobipProvider(account, await client_for(account.ca_cert))
        for name, account in accounts.items()
    }

    async def find(name: str) -> tuple[Provider, Webhooks] | None:
        account = (await services.accounts.infobip_accounts()).get(name)
        if account is None:
            return None
        return InfobipProvider(account, await client_for(account.ca_cert)), webhooks_of(name)

    return Sender(
        services.outbox,
        providers,
        {name: webhooks_of(name) for name in accounts},
        services.clock,
        batch=batch,
        lease=timedelta(seconds=lease),
        find=find,
    )


def accounts_fingerprint(accounts: Mapping[str, InfobipAccount]) -> str:
    """What a sender was opened on: names, addresses, CA files and (hashed) keys. A change
    means an account was added, removed or edited, and the sender must be opened again."""
    digest = hashlib.sha256()
    for name in sorted(accounts):
        account = accounts[name]
        for part in (name, account.base_url, account.api_key, account.ca_cert or ""):
            digest.update(part.encode())
            digest.update(b"\0")
    return digest.hexdigest()


Opener = Callable[[contextlib.AsyncExitStack], Awaitable[Rounds]]
Fingerprint = Callable[[], Awaitable[str]]


class ReopeningSender:
    """A sender opened again when the provider accounts change (looked at every
    ``recheck`` seconds, between rounds, and at once when ``changed`` counts a change made
    in this process), so accounts added or edited after start are used.
    Use as an async context manager: it holds the open sender's HTTP clients."""

    def __init__(
        self,
        opener: Opener,
        fingerprint: Fingerprint,
        *,
        recheck: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
        changed: Callable[[], int] = lambda: 0,
    ) -> None:
        self.opener = opener
        self.fingerprint = fingerprint
        self.changed = changed
        self._changes = changed()
        self.recheck = recheck
        self.monotonic = monotonic
        self.opened = 0  # how many times a sender was opened
        self._sender: Rounds | None = None
        self._clients: contextlib.AsyncExitStack | None = None
        self._seen = ""
        self._checked = 0.0

    async def __aenter__(self) -> ReopeningSender:
        await self._open()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._close()

    async def _open(self) -> Rounds:
        await self._close()
        self._changes = self.changed()
        self._seen = await self.fingerprint()
        self._checked = self.monotonic()
        self._clients = contextlib.AsyncExitStack()
        self._sender = await self.opener(self._clients)
        self.opened += 1
        return self._sender

    async def _close(self) -> None:
        clients, self._clients, self._sender = self._clients, None, None
        if clients is not None:
            await clients.aclose()

    async def current(self) -> Rounds:
        """The sender, opened again first when the accounts changed since it was opened."""
        if self._sender is None or self.changed() != self._changes:
            return await self._open()
        if self.monotonic() - self._checked >= self.recheck:
            self._checked = self.monotonic()
            if await self.fingerprint() != self._seen:
                return await self._open()
        return self._sender

    async def run_once(self) -> SendRound:
        return await (await self.current()).run_once()

    async def pause(self, idle: float) -> float:
        return await (await self.current()).pause(idle)


def reopening_sender(
    services: Messaging,
    *,
    public_url: str | None = None,
    delivery_url: str | None = None,
    recheck: float = 2.0,
    changes: AccountChanges | None = None,
) -> ReopeningSender:
    """A :class:`ReopeningSender` over every stored provider account (``serve``'s loop);
    ``changes``: the web app's count of account changes, seen before the next round."""

    async def opener(clients: contextlib.AsyncExitStack) -> Rounds:
        return await open_sender(
            services, clients, public_url=public_url, delivery_url=delivery_url
        )

    async def fingerprint() -> str:
        return accounts_fingerprint(await services.accounts.infobip_accounts())

    counted = changes or services.accounts.changes
    return ReopeningSender(opener, fingerprint, recheck=recheck, changed=lambda: counted.count)


async def send_rounds(
    sender: Rounds,
    stop: asyncio.Event,
    *,
    once: bool = False,
    until_idle: bool = False,
    idle_wait: float = IDLE_WAIT,
    gather_wait: float = GATHER_WAIT,
    events: EventSink = ignore,
) -> Finished:
    """Rounds of ``sender`` until ``stop`` is set (after one round with ``once``, or once
    nothing is due with ``until_idle``); each round is told as :class:`PassDone`. Following
    (neither), a round that was not full is followed by ``gather_wait`` seconds' pause.
    Finished holds the totals: claimed, accepted, rejected, retried."""
    totals = dict.fromkeys(TOTALS, 0)
    while not stop.is_set():
        done = await sender.run_once()
        for name in TOTALS:
            totals[name] += getattr(done, name)
        events(PassDone(done))
        if once or (until_idle and done.claimed == 0):
            break
        if done.claimed == 0:  # until the next message's slot, at most ``idle_wait``
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=await sender.pause(idle_wait))
        elif not done.full and not until_idle and gather_wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=gather_wait)
    return Finished(totals)


SendLoop = Callable[[asyncio.Event, EventSink], Awaitable[Outcome]]


def message_sends(
    settings: Settings, *, recheck: float = 2.0, changes: AccountChanges | None = None
) -> SendLoop:
    """``serve``'s send loop: every provider account (reopened when they change, at once
    when ``changes`` counts a change by the web app beside it), report URLs on
    ``settings.public_url`` when set, rounds until the stop event is set."""

    async def loop(stop: asyncio.Event, events: EventSink) -> Outcome:
        async with (
            messaging(settings) as services,
            reopening_sender(
                services, public_url=settings.public_url, recheck=recheck, changes=changes
            ) as sender,
        ):
            return await send_rounds(sender, stop, events=events)

    return loop


__all__ = [
    "ReopeningSender",
    "SendLoop",
    "accounts_fingerprint",
    "message_sends",
    "open_sender",
    "reopening_sender",
    "send_rounds",
]
