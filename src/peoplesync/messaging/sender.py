"""The send loop: claim due messages, hand them to their account's provider, record answers.

Thin on purpose: decisions live in the outbox (what is due), the speed limit (when) and the
provider adapter (how). One round returns what it did; callers decide how to show it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from peoplesync.clock import Clock
from peoplesync.errors import RetryableError, StopError
from peoplesync.messaging.channels.catalog import Channel
from peoplesync.messaging.message import Message, Outcome, Webhooks
from peoplesync.messaging.outbox import Outbox
from peoplesync.messaging.provider import Provider
from peoplesync.messaging.queued_message import QueuedMessage

RETRY_FIRST = timedelta(seconds=5)
RETRY_MAX = timedelta(minutes=30)


@dataclass
class SendRound:
    """What one round did."""

    claimed: int = 0
    accepted: int = 0
    rejected: int = 0
    retried: int = 0
    stopped: list[str] = field(default_factory=list)  # accounts refused (bad key)
    full: bool = False  # the claim took a whole batch: more may be due at once


# Looks up an account the sender was not opened with (added since): its provider and report
# URLs, or None when there is still no account of that name.
FindAccount = Callable[[str], Awaitable[tuple[Provider, Webhooks] | None]]


def retry_delay(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s, ... up to 30 minutes."""
    delay: timedelta = RETRY_FIRST * (2 ** max(attempts - 1, 0))
    return min(delay, RETRY_MAX)


class Sender:
    """Sends what the outbox says is due, through each message's provider account."""

    def __init__(
        self,
        outbox: Outbox,
        providers: Mapping[str, Provider],
        webhooks: Webhooks | Mapping[str, Webhooks],
        clock: Clock,
        *,
        batch: int = 500,
        lease: timedelta = timedelta(minutes=5),
        find: FindAccount | None = None,
    ) -> None:
        self._outbox = outbox
        self._providers = dict(providers)
        self._webhooks = webhooks  # one for all accounts, or each account's own
        self._found: dict[str, Webhooks] = {}  # report URLs of the accounts found since
        self._find = find
        self._clock = clock
        self._batch = batch
        self._lease = lease

    async def run_once(self) -> SendRound:
        claimed = await self._outbox.claim(self._batch, self._lease)
        done = SendRound(claimed=len(claimed), full=len(claimed) >= self._batch)
        by_account: dict[str, list[QueuedMessage]] = {}
        for message in claimed:
            by_account.setdefault(message.account, []).append(message)
        for account, queued in by_account.items():
            await self._send_account(account, queued, done)
        return done

    async def _send_account(
        self, account: str, queued: list[QueuedMessage], done: SendRound
    ) -> None:
        provider = self._providers.get(account) or await self._found_provider(account)
        retry_at = self._clock.now() + retry_delay(max(m.attempts for m in queued))
        ids = [message.id for message in queued]
        token = queued[0].claimed_by or ""
        if provider is None:
            await self._outbox.release(
                ids, retry_at, f"no provider account named {account!r}", claimed_by=token
            )
            done.retried += len(ids)
            return
        messages = [
            Message(m.id, Channel(m.channel), m.recipient, m.request, m.callback_data)
            for m in queued
        ]
        try:
            results = await provider.send(
                messages, bulk_id=ids[0], webhooks=self._webhooks_of(account)
            )
        except RetryableError as exc:
            await self._outbox.release(ids, retry_at, exc.message, claimed_by=token)
            done.retried += len(ids)
            return
        except StopError as exc:
            await self._outbox.release(ids, retry_at, exc.message, claimed_by=token)
            done.retried += len(ids)
            done.stopped.append(account)
            return
        await self._outbox.record(results, claimed_by=token)
        for result in results:
            if result.outcome is Outcome.ACCEPTED:
                done.accepted += 1
            else:
                done.rejected += 1

    async def _found_provider(self, account: str) -> Provider | None:
        """An account added since the sender was opened, read again before the try fails
        (one read a round per unknown account, none per message)."""
        if self._find is None:
            return None
        found = await self._find(account)
        if found is None:
            return None
        self._providers[account], self._found[account] = found
        return found[0]

    def _webhooks_of(self, account: str) -> Webhooks:
        if account in self._found:
            return self._found[account]
        if isinstance(self._webhooks, Webhooks):
            return self._webhooks
        return self._webhooks.get(account, Webhooks())

    async def pause(self, idle: float) -> float:
        """Seconds to wait after a round that found nothing due: until the next queued
        message's slot, at most ``idle`` (so a speed-limited message goes on its time)."""
        next_due = await self._outbox.next_due()
        if next_due is None:
            return idle
        # A floor: a due message another worker holds locked must not make this one spin.
        return min(idle, max((next_due - self._clock.now()).total_seconds(), 0.005))

    async def run(self, stop: asyncio.Event, *, idle: float = 0.2) -> None:
        """Rounds until ``stop`` is set; when nothing was due, waits for the next slot."""
        while not stop.is_set():
            done = await self.run_once()
            if done.claimed == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=await self.pause(idle))
