"""``peoplesync demo``: the product on embedded defaults, with no account anywhere.

It starts the Salesforce sandbox org seeded with realistic, messy data, connects People to
it, runs the initial transfer with a progress bar, then keeps syncing in real time (Change
Data Capture, with a poll every minute as safety net) and says how to edit a record in the
org and watch it arrive. With the web app, it also runs the sandbox messaging provider and
the send worker, and sends one SMS to a seeded person (see ``demo_messaging``), and the
Marketing Cloud sandbox with a short journey run against the web app (see ``demo_journey``).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from peoplesync.demo_journey import journey_beside_serve, journey_lines
from peoplesync.demo_messaging import ACCOUNT, SMS_SENDER, messaging_beside_serve, welcome_lines
from peoplesync.errors import ConfigurationError, DuplicateEmailError
from peoplesync.sandbox.salesforce.config import SandboxConfig
from peoplesync.sandbox.salesforce.server import seed_if_empty, serve
from peoplesync.settings import Settings
from peoplesync.sync.connection import review_hint, store_connection
from peoplesync.sync.integration import Integration
from peoplesync.sync.organization import learn_organization
from peoplesync.web.accounts import Accounts, Role
from peoplesync.web.server import address_of, listen, serve_web
from peoplesync.wiring import build_services, people_store, services, status_store
from peoplesync.workers.change_streams import StreamNews
from peoplesync.workers.events import Event, PassDone, StreamBatch
from peoplesync.workers.inbound import ProgressSink, inbound_passes
from peoplesync.workers.outcome import Failed, Gated

DEMO_COUNTS = {"accounts": 300, "contacts": 2000, "leads": 1000}
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "peoplesync-demo"  # noqa: S105 (printed to the user: a local demo only)


def _instructions(info: dict[str, Any]) -> str:
    base, ca = info["instance_url"], info["ca_cert"]
    return "\n".join(
        [
            f"[b]Salesforce sandbox org[/b] is running at {base}",
            f"  login URL      {info['login_url']}",
            f"  username       {info['username']}",
            f"  password       {info['password']}",
            f"  client id      {info['client_id']}",
            f"  client secret  {info['client_secret']}",
            f"  CA certificate {ca}",
            "",
            "Get a token and query leads:",
            f"  curl -s --cacert {ca} {base}/services/oauth2/token -d grant_type=password "
            f"-d client_id={info['client_id']} -d client_secret={info['client_secret']} "
            f"-d username={info['username']} -d password={info['password']}",
            f"  curl -s --cacert {ca} -H 'Authorization: Bearer TOKEN' "
            f"'{base}/services/data/v59.0/query?q=SELECT+Name,Email,Status+FROM+Lead+LIMIT+5'",
            "",
            "Press Ctrl+C to stop; the org keeps its data between runs.",
        ]
    )


async def _first_sync(
    settings: Settings, info: dict[str, Any], console: Console, progress: ProgressSink | None
) -> dict[str, Any]:
    """Connect People to the org and bring its Leads and Contacts in."""
    integration = Integration(
        "default",
        info["login_url"],
        info["client_id"],
        info["client_secret"],
        info["username"],
        info["password"],
        info["ca_cert"],
        instance_url=info["instance_url"],
    )
    organization_id = await learn_organization(integration)
    if organization_id is None:
        raise ConfigurationError(
            f"the demo cannot log in to the sandbox org at {info['login_url']}",
            hint="stop other demos using this data folder and run peoplesync demo again",
        )
    async with services(settings) as wired:
        store = wired.people
        connected = await store_connection(
            store, wired.engine, wired.box, integration, organization_id
        )
        # Through the status gate and recorder like every pass: the first sync is counted,
        # logged and kept in the transfer history.
        outcome = await inbound_passes(
            settings,
            store,
            wired.statuses,
            integration.name,
            follow=False,
            progress=progress,
            started_by="demo",
        )
    if isinstance(outcome, Failed):
        raise outcome.error
    if isinstance(outcome, Gated):
        raise ConfigurationError(
            f"the first sync did not run ({outcome.state}): {outcome.reason}",
            hint="see `peoplesync status`, then run `peoplesync demo` again",
        )
    summary: dict[str, Any] = outcome.report
    rejected = sum(summary[sobject]["rejected"] for sobject in ("Account", "Lead", "Contact"))
    console.print(
        f"People holds {summary['persons']} persons from {summary['Lead']['read']} leads and "
        f"{summary['Contact']['read']} contacts, and {summary['companies']} companies from "
        f"{summary['Account']['read']} accounts ({summary['api_calls']} API calls; "
        f"{rejected} records rejected, "
        "see `peoplesync status`)."
    )
    if connected.awaiting_review:
        console.print(
            "Outbound (People -> Salesforce) is off until you review it, as for any new "
            f"integration: {review_hint('default', connected.awaiting_review)}.",
            soft_wrap=True,
        )
    return summary


def _an_edit_to_try(info: dict[str, Any]) -> str:
    """Seed 000's walkthrough: a lead made in the org arrives in People, an edit goes back."""
    base, ca = info["instance_url"], info["ca_cert"]
    lead = '{"LastName": "Marulic", "Company": "Split Press", "Email": "marko@split.example"}'
    return "\n".join(
        [
            "[b]Watch changes flow both ways[/b]:",
            f"  1. Open the org at {base}/lightning/o/Lead/list (its CA: {ca}), log in as "
            f"{info['username']} / {info['password']}, click New and save a lead.",
            "  2. Switch outbound on (Salesforce -> default -> Steps: enable Person to Lead and "
            "Person to Contact, or `peoplesync steps enable 'Person to Lead' 'Person to Contact'`"
            "), find the person in People (the web app above, or "
            "`.venv/bin/peoplesync people export`), change its city and save.",
            "  3. Reload the lead in the org (the person page links to it): the city is there.",
            "  Or from a shell, with a token from the first curl above:",
            f"  curl -s --cacert {ca} -H 'Authorization: Bearer TOKEN' "
            f"-H 'Content-Type: application/json' -d '{lead}' "
            f"{base}/services/data/v59.0/sobjects/Lead",
            "Changes are applied as they arrive (Change Data Capture in, change log out).",
        ]
    )


async def keep_syncing(settings: Settings, console: Console, *, interval: float = 60.0) -> None:
    """Real-time sync until cancelled, telling the user what arrives."""
    news = StreamNews()

    def heard(event: Event) -> None:
        if isinstance(event, StreamBatch):
            said = news.heard(event.step, event.report)
            if said is not None:
                console.print(said)
        elif isinstance(event, PassDone):
            changed = sum(
                part["created"] + part["updated"]
                for part in event.report.values()
                if isinstance(part, dict)
            )
            if changed:
                console.print(f"polling brought {changed} changes")

    # The loop of `sync run --follow`: change streams and a poll every ``interval``, each
    # pass and each streamed change recorded in the status.
    async with people_store(settings) as store:
        outcome = await inbound_passes(
            settings,
            store,
            status_store(store),
            "default",
            follow=True,
            interval=interval,
            reconcile_every=interval,
            events=heard,
            started_by="demo",
        )
    if isinstance(outcome, Gated):
        console.print(f"sync stopped ({outcome.state}): {outcome.reason}", markup=False)
    elif isinstance(outcome, Failed):
        raise outcome.error


async def ensure_demo_user(accounts: Accounts) -> None:
    """The demo's admin, with the password the demo prints."""
    try:
        await accounts.add_user(DEMO_EMAIL, DEMO_PASSWORD, Role.ADMIN)
    except DuplicateEmailError:
        user = await accounts.user_by_email(DEMO_EMAIL)
        await accounts.set_password(user.id, DEMO_PASSWORD)


async def serve_people(
    settings: Settings, info: dict[str, Any], console: Console, web_port: int
) -> None:
    """`peoplesync serve` (web app, REST API and sync workers) on the demo's People store,
    until Ctrl+C; prints where to go and how to log in."""
    async with services(settings) as wired:
        await ensure_demo_user(Accounts(wired.engine, wired.clock))
        listener = listen("127.0.0.1", web_port)
        people = address_of(listener)

        def say(message: str) -> None:
            console.print(message, markup=False, highlight=False, soft_wrap=True)

        async with (
            messaging_beside_serve(
                wired.engine,
                wired.box,
                wired.clock,
                settings.data_dir.resolve() / "sandbox-provider",
                people,
                say,
            ) as welcome,
            journey_beside_serve(
                wired.engine,
                wired.box,
                wired.clock,
                settings.data_dir.resolve() / "sandbox-marketing-cloud",
                people,
                ACCOUNT,
                SMS_SENDER,
                say,
            ) as journey,
        ):
            console.print(
                "\n".join(
                    [
                        "",
                        f"[b]People UI[/b]          {people}/",
                        f"  demo login       {DEMO_EMAIL} / {DEMO_PASSWORD}",
                        f"  REST API         {people}/api/v1 "
                        f"(OpenAPI: {people}/api/v1/openapi.json)",
                        f"[b]Salesforce sandbox org[/b] {info['instance_url']}",
                        "The sync workers run beside the web app: what changes in the org shows "
                        "up in People, and edits in People go to the org once its outbound "
                        "steps are switched on.",
                        *welcome_lines(welcome, people),
                        *journey_lines(journey, people),
                    ]
                ),
                soft_wrap=True,
            )
            # serve's send loop sends the SMS, with report URLs and short links on the demo's
            # own web address.
            served = build_services(
                settings.model_copy(update={"public_url": people}),
                wired.engine,
                people=wired.people,
                clock=wired.clock,
                box=wired.box,
                open_org=wired.open_org,
            )
            await serve_web(served, listener, secure_cookies=False, say=say, log_level="warning")


async def run_demo(
    data_dir: Path,
    port: int,
    *,
    once: bool,
    console: Console,
    settings: Settings | None = None,
    web_port: int | None = None,
    progress: ProgressSink | None = None,
) -> dict[str, Any]:
    """Seed (first run only) and serve the sandbox org; ``once`` stops when it is up.

    With ``web_port`` (and not ``once``), `peoplesync serve` runs on it with its sync
    workers; otherwise the demo keeps syncing on its own. ``data_dir`` must be absolute;
    ``progress`` shows the first sync's progress.
    """
    config = SandboxConfig(data_dir=data_dir / "sandbox-salesforce", seed=42)
    with Progress(
        TextColumn("seeding {task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=console,
        transient=True,
    ) as seeding:
        tasks = {
            "Account": seeding.add_task("accounts", total=DEMO_COUNTS["accounts"]),
            "Contact": seeding.add_task("contacts", total=DEMO_COUNTS["contacts"]),
            "Lead": seeding.add_task("leads", total=DEMO_COUNTS["leads"]),
        }
        counts = await seed_if_empty(
            config,
            **DEMO_COUNTS,
            progress=lambda sobject, n: (
                seeding.advance(tasks[sobject], n) if sobject in tasks else None
            ),
        )
    if counts is not None:
        console.print(
            f"seeded {counts.accounts} accounts, {counts.contacts} contacts, {counts.leads} leads, "
            f"{counts.opportunities} opportunities, {counts.campaigns} campaigns"
        )
    ready: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    server = asyncio.create_task(serve(config, "127.0.0.1", port, ready.set_result, stop))
    info = await asyncio.wait_for(ready, timeout=60)
    console.print(_instructions(info), soft_wrap=True)
    follower: asyncio.Task[None] | None = None
    if settings is not None:
        info["sync"] = await _first_sync(settings, info, console, progress)
        if not once:
            console.print(_an_edit_to_try(info), soft_wrap=True)
            if web_port is None:
                follower = asyncio.create_task(keep_syncing(settings, console))
            else:
                follower = asyncio.create_task(serve_people(settings, info, console, web_port))
    if once:
        stop.set()
    try:
        if follower is not None and web_port is not None:
            await _until_either(follower, server)
            # The org drops the change streams' long polls as it stops; that is expected.
            logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
            stop.set()
        await server
    finally:
        if follower is not None:
            follower.cancel()
    return info


async def _until_either(first: asyncio.Task[None], second: asyncio.Task[None]) -> None:
    """Wait for one of two tasks to end; its failure is raised."""
    await asyncio.wait({first, second}, return_when=asyncio.FIRST_COMPLETED)
    for task in (first, second):
        error = task.exception() if task.done() and not task.cancelled() else None
        if error is not None:
            raise error
