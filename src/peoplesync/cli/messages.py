"""CLI: sending messages, the send worker and what was sent."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from typing import Annotated, Any

import typer
from rich.console import Console

from peoplesync.errors import PeopleSyncError
from peoplesync.messaging.hook_urls import hook_urls
from peoplesync.messaging.message_list import STATES, MessageFilter, message_json
from peoplesync.messaging.outbox import Enqueued
from peoplesync.messaging.queued_message import QueuedMessage
from peoplesync.messaging.send_request import MessageRefusedError, SendRequest, queue_send
from peoplesync.messaging.sender import SendRound
from peoplesync.messaging.speed_limit import SpeedLimit, TimeUnit
from peoplesync.people.model import new_id
from peoplesync.settings import Settings
from peoplesync.wiring import messaging
from peoplesync.workers.events import Event, PassDone
from peoplesync.workers.sends import open_sender, send_rounds

messages_app = typer.Typer(help="Send messages and see what was sent.", no_args_is_help=True)
console = Console(stderr=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON")]
PublicUrlOption = Annotated[
    str | None,
    typer.Option(
        "--public-url",
        envvar="PEOPLESYNC_PUBLIC_URL",
        help="The address providers reach peoplesync's web app at, e.g. https://people.example.com",
    ),
]


def _fail(exc: PeopleSyncError) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(1)


@messages_app.command("send")
def messages_send(
    channel: Annotated[str, typer.Option(help="sms, lms, mms, rcs, viber, whatsapp, ...")],
    to: Annotated[str, typer.Option(help="Recipient phone number, international format")],
    text: Annotated[str | None, typer.Option(help="Message text")] = None,
    sender: Annotated[str | None, typer.Option("--from", help="Sender name or number")] = None,
    account: Annotated[str, typer.Option(help="Provider account to send through")] = "main",
    request_json: Annotated[
        str | None, typer.Option("--request", help="More request fields as a JSON object")
    ] = None,
    key: Annotated[
        str | None, typer.Option(help="Idempotency key: the same key is sent once")
    ] = None,
    limit: Annotated[
        str | None, typer.Option(help="Sending speed limit, e.g. 500/hour (1..100000 per unit)")
    ] = None,
    limit_key: Annotated[str, typer.Option(help="What the limit counts, e.g. journey:v1")] = "cli",
    track_links: Annotated[
        bool, typer.Option("--track-links", help="Short links for the body's URLs, clicks counted")
    ] = False,
    remove_https: Annotated[
        bool, typer.Option("--remove-https", help="Short links without https://")
    ] = False,
    link_domain: Annotated[
        str | None,
        typer.Option(
            "--link-domain", help="Short links on this domain (it must point at peoplesync)"
        ),
    ] = None,
    public_url: PublicUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Queue one message; the send worker (messages work) sends it.

    With --track-links, URLs in the text become short links on peoplesync's public URL
    (--public-url or PEOPLESYNC_PUBLIC_URL) or on --link-domain, and clicks are recorded.
    """
    extra: dict[str, Any] = {}
    if request_json:
        try:
            extra = json.loads(request_json)
        except ValueError as exc:
            console.print(f"[red]error:[/red] --request is not JSON: {exc}")
            raise typer.Exit(2) from None
        if not isinstance(extra, dict):
            console.print("[red]error:[/red] --request must be a JSON object")
            raise typer.Exit(2)
    if track_links:
        extra |= {"shortenUrl": True, "trackClicks": True}
    if remove_https:
        extra["removeProtocol"] = True
    if link_domain is not None:
        extra["customDomain"] = link_domain
    speed = _parse_limit(limit) if limit else None
    send = SendRequest(channel, to, text, sender, account, extra, key or f"cli:{new_id()}")

    settings = Settings(public_url=public_url) if public_url else Settings()
    if track_links and not settings.public_url:
        console.print(
            "note: no public URL (--public-url or PEOPLESYNC_PUBLIC_URL): the provider is asked "
            "to shorten and track the links on its own domains"
        )

    async def run() -> Any:
        async with messaging(settings) as services:
            return await queue_send(
                services.outbox,
                services.accounts,
                services.senders,
                send,
                limit=speed,
                limit_key=limit_key,
            )

    try:
        queued = asyncio.run(run())
    except MessageRefusedError as refused:
        queued = Enqueued("", refused.message_status, refused.field, refused.hint, False)
    except PeopleSyncError as exc:
        raise _fail(exc) from None
    result = {
        "message_id": queued.message_id,
        "messageStatus": queued.status,
        "field": queued.field,
        "detail": queued.detail,
        "duplicate": queued.duplicate,
    }
    if as_json:
        typer.echo(json.dumps(result))
    elif queued.status.startswith("Success"):
        console.print(f"queued {queued.message_id}: {queued.status}")
    else:
        console.print(f"[red]{queued.status}[/red] ({queued.field}: {queued.detail})")
    if not queued.status.startswith("Success"):
        raise typer.Exit(1)


def _parse_limit(value: str) -> SpeedLimit:
    amount, _, unit = value.partition("/")
    try:
        return SpeedLimit(int(amount), TimeUnit(unit.strip().upper()))
    except ValueError as exc:
        console.print(f"[red]error:[/red] --limit {value!r}: {exc} (e.g. 500/hour, 20/minute)")
        raise typer.Exit(2) from None


@messages_app.command("list")
def messages_list(
    channel: Annotated[str | None, typer.Option(help="Only this channel")] = None,
    state: Annotated[str | None, typer.Option(help=", ".join(STATES))] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Recent messages, newest first."""
    try:  # an unknown channel or state is an error, not an empty list
        MessageFilter(channel or "", state or "").check()
    except PeopleSyncError as exc:
        raise _fail(exc) from None

    async def run() -> list[QueuedMessage]:
        async with messaging(Settings()) as services:
            return await services.outbox.recent(limit=limit, channel=channel, state=state)

    rows = [message_json(m) for m in asyncio.run(run())]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        typer.echo(
            f"{row['message_id']}  {row['channel']:<12} {row['to']:<16} {row['state']:<9} "
            f"{row['provider_status'] or row['messageStatus']}"
        )


@messages_app.command("show")
def messages_show(
    message_id: Annotated[str, typer.Argument(help="The message id")],
    as_json: JsonOption = False,
) -> None:
    """One message with its request and its trail of events."""

    async def run() -> dict[str, Any] | None:
        async with messaging(Settings()) as services:
            message = await services.outbox.get(message_id)
            if message is None:
                return None
            return message_json(message) | {
                "request": dict(message.request),
                "events": await services.outbox.events(message_id),
                "links": await services.links.links_of(message_id),
                "clicks": [
                    click.as_report()
                    for click in await services.links.clicks(message_id=message_id)
                ],
            }

    found = asyncio.run(run())
    if found is None:
        console.print(
            f"[red]error:[/red] no message {message_id!r} (see: peoplesync messages list)"
        )
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps(found))
        return
    typer.echo(json.dumps(found, indent=2))


@messages_app.command("work")
def messages_work(
    once: Annotated[bool, typer.Option(help="One round, then exit")] = False,
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Exit when nothing is due (e.g. from cron)")
    ] = False,
    lease: Annotated[
        float,
        typer.Option(
            help="Seconds a claimed message stays with this worker; keep it longer than one "
            "provider call with its retries (about 160 s)"
        ),
    ] = 300.0,
    batch: Annotated[int, typer.Option(help="Messages claimed per round")] = 500,
    delivery_url: Annotated[
        str | None, typer.Option(help="Where the provider sends delivery reports")
    ] = None,
    public_url: PublicUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send queued messages through their provider accounts until stopped.

    With --public-url (or PEOPLESYNC_PUBLIC_URL), each message carries its account's
    delivery and seen report URLs on peoplesync's web app (see: messages webhooks).
    """
    if public_url and delivery_url:
        console.print("[red]error:[/red] give --public-url or --delivery-url, not both")
        raise typer.Exit(1)

    def heard(event: Event) -> None:
        if isinstance(event, PassDone) and isinstance(event.report, SendRound):
            for account in event.report.stopped:
                console.print(f"[red]provider account {account!r} refused its key[/red]")

    async def run() -> dict[str, int]:
        async with messaging(Settings()) as services, contextlib.AsyncExitStack() as clients:
            sender = await open_sender(
                services,
                clients,
                delivery_url=delivery_url,
                public_url=public_url,
                batch=batch,
                lease=lease,
            )
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(sig, stop.set)
            done = await send_rounds(sender, stop, once=once, until_idle=until_idle, events=heard)
            totals: dict[str, int] = done.report
            return totals

    totals = asyncio.run(run())
    if as_json:
        typer.echo(json.dumps(totals))
    else:
        console.print(
            f"claimed {totals['claimed']}: accepted {totals['accepted']}, rejected "
            f"{totals['rejected']}, retried later {totals['retried']}"
        )


@messages_app.command("webhooks")
def messages_webhooks(public_url: PublicUrlOption = None, as_json: JsonOption = False) -> None:
    """Each provider account's delivery, seen, inbound (MO) and click URLs (with a secret token).

    The inbound URL is set at the provider, on the number replies come to (Infobip: the
    number's inbound configuration, renderer MO_JSON_2)."""
    if not public_url:
        console.print("[red]error:[/red] give --public-url (or set PEOPLESYNC_PUBLIC_URL)")
        raise typer.Exit(1)

    async def run() -> list[dict[str, str | None]]:
        async with messaging(Settings()) as services:
            rows = []
            for account in await services.accounts.list():
                urls = hook_urls(public_url, services.box, account.name)
                rows.append(
                    {
                        "account": account.name,
                        "delivery": urls.delivery_url,
                        "seen": urls.seen_url,
                        "inbound": urls.inbound_url,
                        "click": urls.click_url,
                    }
                )
            return rows

    try:
        rows = asyncio.run(run())
    except PeopleSyncError as exc:
        raise _fail(exc) from None
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        typer.echo(
            f"{row['account']}\n  delivery: {row['delivery']}\n  seen:     {row['seen']}"
            f"\n  inbound:  {row['inbound']}\n  click:    {row['click']}"
        )
