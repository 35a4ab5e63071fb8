"""Message sends: rounds of the sender until stopped (``messages work``).

There is no integration status gate in front of a provider, so this loop is not the gated
one; like it, it returns an outcome and tells each round to an event sink.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from datetime import timedelta
from typing import Protocol

import httpx

from peoplesync.messaging.hook_urls import hook_urls
from peoplesync.messaging.message import Webhooks
from peoplesync.messaging.provider import Provider
from peoplesync.messaging.providers.infobip.client import InfobipProvider
from peoplesync.messaging.sender import Sender, SendRound
from peoplesync.wiring import Messaging
from peoplesync.workers.events import EventSink, PassDone, ignore
from peoplesync.workers.outcome import Finished

IDLE_WAIT = 0.2  # seconds between rounds while nothing is due
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
    for ca_cert in {a.ca_cert for a in accounts.values()}:
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=ca_cert) if ca_cert else True
        )
        by_ca[ca_cert] = await clients.enter_async_context(
            httpx.AsyncClient(timeout=30, verify=verify)
        )
    providers: dict[str, Provider] = {
        name: InfobipProvider(account, by_ca[account.ca_cert]) for name, account in accounts.items()
    }
    webhooks: Webhooks | dict[str, Webhooks] = Webhooks(delivery_url=delivery_url)
    if public_url:
        webhooks = {name: hook_urls(public_url, services.box, name) for name in accounts}
    return Sender(
        services.outbox,
        providers,
        webhooks,
        services.clock,
        batch=batch,
        lease=timedelta(seconds=lease),
    )


async def send_rounds(
    sender: Rounds,
    stop: asyncio.Event,
    *,
    once: bool = False,
    until_idle: bool = False,
    idle_wait: float = IDLE_WAIT,
    events: EventSink = ignore,
) -> Finished:
    """Rounds of ``sender`` until ``stop`` is set (after one round with ``once``, or once
    nothing is due with ``until_idle``); each round is told as :class:`PassDone`. Finished
    holds the totals: claimed, accepted, rejected, retried."""
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
    return Finished(totals)


__all__ = ["open_sender", "send_rounds"]
