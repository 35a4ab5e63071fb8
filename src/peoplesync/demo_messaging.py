"""The demo's messaging: the sandbox provider served from the demo's own process, a provider
account "sandbox" with an SMS sender name, the send worker beside `peoplesync serve`, and one
SMS to a seeded person whose number the sandbox delivers, so that person's page shows the SMS
with its delivery report."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import Clock
from peoplesync.errors import ValidationError
from peoplesync.messaging.accounts import ProviderAccounts
from peoplesync.messaging.hook_urls import hook_urls
from peoplesync.messaging.outbox import Enqueued, Outbox
from peoplesync.messaging.provider import Provider
from peoplesync.messaging.providers.infobip.client import InfobipProvider
from peoplesync.messaging.send_request import SendRequest, queue_send
from peoplesync.messaging.sender import Sender
from peoplesync.messaging.sender_names import SenderExistsError, SenderNames
from peoplesync.people.tables import person_phones, persons
from peoplesync.sandbox.provider.config import ProviderConfig, ProviderKnobs
from peoplesync.sandbox.provider.server import serve, stored_api_key
from peoplesync.secret_box import SecretBox

ACCOUNT = "sandbox"
SMS_SENDER = "PeopleSync"
WELCOME_KEY = "demo:welcome-sms"  # sent once per data folder, however often the demo starts
WELCOME_TEXT = "Welcome to peoplesync, {name}! Your profile: https://example.com/welcome"
# Hook for click tracking: once URL shortening and tracked links exist, turn both on here so
# the link above is shortened and its clicks come back as reports on the same trail.
WELCOME_TRACKING = {"shortenUrl": False, "trackClicks": False}
# The sandbox's outcome table (sandbox/provider/outcomes.py): these endings fail on purpose.
FAILING_ENDINGS = ("00", "91", "92", "93", "94")


@dataclass(frozen=True)
class Welcome:
    """The demo's SMS and where it went."""

    provider_url: str
    person_id: str
    person_name: str
    number: str
    queued: Enqueued


async def _recipient(engine: AsyncEngine) -> tuple[str, str, str] | None:
    """A seeded person with a name and a phone the sandbox delivers to: (id, name, number)."""
    query = (
        sa.select(persons.c.id, persons.c.first_name, persons.c.last_name, person_phones.c.number)
        .join(person_phones, person_phones.c.person_id == persons.c.id)
        .where(person_phones.c.position == 0, persons.c.last_name.is_not(None))
        .order_by(persons.c.created_at, persons.c.id)
        .limit(200)
    )
    async with engine.connect() as conn:
        for person_id, first, last, number in await conn.execute(query):
            if not number.endswith(FAILING_ENDINGS):
                name = " ".join(part for part in (first, last) if part)
                return person_id, name, number
    return None


async def _connect_account(
    accounts: ProviderAccounts, senders: SenderNames, base_url: str, api_key: str
) -> None:
    """The "sandbox" account on this run's provider address (its port changes each run)."""
    current = {account.name: account for account in await accounts.list()}
    known = current.get(ACCOUNT)
    if known is None or known.base_url != base_url:
        await accounts.remove(ACCOUNT, force=True)  # queued messages wait for the new one
        await accounts.add(ACCOUNT, base_url, api_key)
    with contextlib.suppress(SenderExistsError):
        await senders.add(ACCOUNT, "sms", SMS_SENDER)


@asynccontextmanager
async def messaging_beside_serve(
    engine: AsyncEngine,
    box: SecretBox,
    clock: Clock,
    data_dir: Path,
    public_url: str,
    say: Callable[[str], object],
) -> AsyncIterator[Welcome | None]:
    """While open: the sandbox provider, the send worker sending through it with report URLs
    on ``public_url``, and the welcome SMS queued (None when no seeded person has a phone)."""
    stop = asyncio.Event()
    ready: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
    config = ProviderConfig(
        data_dir=data_dir, api_key=stored_api_key(data_dir), seed=42, knobs=ProviderKnobs()
    )
    provider_task = asyncio.create_task(serve(config, "127.0.0.1", 0, ready.set_result, stop))
    sender_task: asyncio.Task[None] | None = None
    try:
        info = await asyncio.wait_for(asyncio.shield(ready), timeout=30)
        accounts = ProviderAccounts(engine, box, clock)
        senders = SenderNames(engine, clock)
        outbox = Outbox(engine, clock)
        await _connect_account(accounts, senders, info["base_url"], info["api_key"])
        async with httpx.AsyncClient(timeout=30) as http:
            opened = await accounts.infobip_accounts()
            providers: dict[str, Provider] = {
                name: InfobipProvider(account, http) for name, account in opened.items()
            }
            webhooks = {name: hook_urls(public_url, box, name) for name in opened}
            sender = Sender(outbox, providers, webhooks, clock)
            sender_task = asyncio.create_task(sender.run(stop))
            say(f"send worker started: accounts {', '.join(sorted(providers))}")
            welcome = None
            found = await _recipient(engine)
            if found is not None:
                person_id, name, number = found
                send = SendRequest(
                    "sms",
                    number,
                    WELCOME_TEXT.format(name=name),
                    account=ACCOUNT,
                    extra=WELCOME_TRACKING,
                    key=WELCOME_KEY,
                    person_id=person_id,
                )
                try:
                    queued = await queue_send(outbox, accounts, senders, send)
                except ValidationError as refused:
                    say(f"the demo's SMS was refused: {refused}")
                else:
                    welcome = Welcome(info["base_url"], person_id, name, number, queued)
            yield welcome
    finally:
        stop.set()
        for task in (sender_task, provider_task):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, timeout=10)


def welcome_lines(welcome: Welcome | None, people: str) -> list[str]:
    """Where to look for the demo's SMS."""
    if welcome is None:
        return ["[b]Messaging[/b]: no seeded person has a phone, so no SMS was sent."]
    message = welcome.queued.message_id
    return [
        f"[b]Messaging[/b]          sandbox provider {welcome.provider_url} "
        f"(account {ACCOUNT!r}, SMS sender {SMS_SENDER})",
        f"  An SMS went to {welcome.person_name} ({welcome.number}); its delivery report "
        "arrives a second later.",
        f"  the person's page {people}/people/{welcome.person_id} (Messages panel)",
        f"  its report trail  {people}/messages/{message}",
        f"  all messages      {people}/messages · providers {people}/messaging/providers",
        f"  send another      peoplesync messages send --account {ACCOUNT} --channel sms "
        f"--to {welcome.number} --text Hi (or Messages -> Send)",
    ]


__all__ = ["Welcome", "messaging_beside_serve", "welcome_lines"]
