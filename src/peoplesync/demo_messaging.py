"""The demo's messaging: the sandbox provider served from the demo's own process, a provider
account "sandbox" with an SMS sender name, and one SMS with a tracked link to a seeded person
whose number the sandbox delivers. `peoplesync serve`'s own send loop sends it; once it is
delivered a simulated handset taps its short link, so that person's page shows the SMS, its
delivery report and a click."""

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
from peoplesync.messaging.links.store import ShortLinks
from peoplesync.messaging.outbox import Enqueued, Outbox
from peoplesync.messaging.send_request import SendRequest, queue_send
from peoplesync.messaging.sender_names import SenderExistsError, SenderNames
from peoplesync.people.tables import person_phones, persons
from peoplesync.sandbox.provider.config import ProviderConfig, ProviderKnobs
from peoplesync.sandbox.provider.server import serve, stored_api_key
from peoplesync.secret_box import SecretBox

ACCOUNT = "sandbox"
SMS_SENDER = "PeopleSync"
WELCOME_KEY = "demo:welcome-sms"  # sent once per data folder, however often the demo starts
WELCOME_TEXT = "Welcome to peoplesync, {name}! Your profile: https://example.com/welcome"
# The link above becomes a short link on the demo's web address; its clicks are reports.
WELCOME_TRACKING = {"shortenUrl": True, "trackClicks": True}
# The simulated handset that taps the link once the SMS is delivered.
HANDSET = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
TAP_PATIENCE = 120.0  # seconds the handset waits for the delivery report before giving up
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


async def tap_when_delivered(
    outbox: Outbox, links: ShortLinks, message_id: str, say: Callable[[str], object]
) -> str | None:
    """Once the message is delivered, tap its first short link as a phone would (unless it
    was tapped already); returns the short URL tapped (None: not delivered in time)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TAP_PATIENCE
    while True:
        message = await outbox.get(message_id)
        if message is not None and message.state == "delivered":
            break
        if loop.time() > deadline:
            say("the demo's SMS was not delivered in time; no tap on its link")
            return None
        await asyncio.sleep(0.5)
    found = await links.links_of(message_id)
    if not found or found[0]["clicks"]:
        return None
    short_url = str(found[0]["short_url"])
    async with httpx.AsyncClient(timeout=30, headers={"User-Agent": HANDSET}) as handset:
        while True:  # the web app may still be starting
            try:
                answer = await handset.get(short_url)
                break
            except httpx.TransportError:
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(0.5)
    say(f"a handset tapped the SMS's link {short_url} ({answer.status_code}): see the click")
    return short_url


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
    """While open: the sandbox provider, the welcome SMS queued with its link shortened on
    ``public_url`` (None when no seeded person has a phone), and a handset that taps that
    link once serve's send loop has sent it and the delivery report is in."""
    stop = asyncio.Event()
    ready: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
    config = ProviderConfig(
        data_dir=data_dir, api_key=stored_api_key(data_dir), seed=42, knobs=ProviderKnobs()
    )
    provider_task = asyncio.create_task(serve(config, "127.0.0.1", 0, ready.set_result, stop))
    tap_task: asyncio.Task[str | None] | None = None
    try:
        info = await asyncio.wait_for(asyncio.shield(ready), timeout=30)
        accounts = ProviderAccounts(engine, box, clock)
        senders = SenderNames(engine, clock)
        outbox = Outbox(engine, clock, link_base=public_url)
        await _connect_account(accounts, senders, info["base_url"], info["api_key"])
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
                links = ShortLinks(engine, clock)
                tap_task = asyncio.create_task(
                    tap_when_delivered(outbox, links, queued.message_id, say)
                )
        yield welcome
    finally:
        stop.set()
        if tap_task is not None:
            tap_task.cancel()
        for task in (tap_task, provider_task):
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
        f"  An SMS went to {welcome.person_name} ({welcome.number}) from serve's send loop; "
        "its delivery report arrives a second later, then a simulated handset taps its "
        "short link (a click with device, OS and device name).",
        f"  the person's page {people}/people/{welcome.person_id} (Messages panel)",
        f"  its report trail  {people}/messages/{message} (sent, delivered, clicked)",
        f"  all messages      {people}/messages · providers {people}/messaging/providers",
        f"  send another      peoplesync messages send --account {ACCOUNT} --channel sms "
        f"--to {welcome.number} --text Hi (or Messages -> Send)",
    ]


__all__ = ["Welcome", "messaging_beside_serve", "tap_when_delivered", "welcome_lines"]
