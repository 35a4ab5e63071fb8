"""The demo's journey: the Marketing Cloud sandbox served from the demo's own process, a
business unit "demo" on it (its secrets from the sandbox's credentials), peoplesync's data
extensions deployed, a five-contact entry data extension, and a short journey run by the
sandbox's Journey Builder in the background once serve answers: SMS Message with a tracked
link -> Wait -> Reports -> delivery split. One ``sync-reports`` pass then writes the delivery
reports back into the data extensions. A restart of the demo reuses the unit, extensions and
rows and runs the journey again (a new run)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import Clock
from peoplesync.errors import NotFoundError, PeopleSyncError
from peoplesync.marketing_cloud.client import MarketingCloudClient
from peoplesync.marketing_cloud.data_extensions import (
    SMS_DELIVERY_REPORTS,
    Column,
    DataExtension,
    FieldType,
)
from peoplesync.marketing_cloud.deploy import deploy, deploy_extension
from peoplesync.marketing_cloud.report_marks import ReportMarks
from peoplesync.marketing_cloud.report_sync import ReportSync
from peoplesync.marketing_cloud.units import BusinessUnits, UnitSettings, tls_verify
from peoplesync.sandbox.marketing_cloud.config import SandboxConfig
from peoplesync.sandbox.marketing_cloud.journey_model import JourneyProblem, load_journey
from peoplesync.sandbox.marketing_cloud.journey_runner import JourneyRunner, RunOptions
from peoplesync.sandbox.marketing_cloud.journey_store import JourneyStore
from peoplesync.sandbox.marketing_cloud.server import serve, stored_credentials
from peoplesync.sandbox.marketing_cloud.store import SandboxStore
from peoplesync.sandbox.salesforce.keys import ensure_tls
from peoplesync.secret_box import SecretBox

UNIT = "demo"
JOURNEY = "demo-welcome"
ENTRY = DataExtension(
    "peoplesync demo entry",
    "peoplesync_demo_entry",
    (
        Column("ContactKey", FieldType.TEXT, 254, nullable=False, primary_key=True),
        Column("FirstName", FieldType.TEXT, 50),
        Column("Mobile", FieldType.PHONE),
    ),
    sendable=True,
)
# Numbers from the sandbox provider's outcome table (sandbox/provider/outcomes.py): the
# ending decides, so the delivery split has three branches.
CONTACTS = (
    ("DEMO-1", "Ana", "+385911230001"),  # delivered
    ("DEMO-2", "Ivo", "+385911230002"),  # delivered
    ("DEMO-3", "Mara", "+385911230003"),  # delivered
    ("DEMO-4", "Luka", "+385911230091"),  # undeliverable
    ("DEMO-5", "Petra", "+385911230000"),  # refused by the provider
)
WAIT_SECONDS = 5.0
SERVE_PATIENCE = 120.0  # seconds to wait for serve's web app before giving up the journey


@dataclass(frozen=True)
class DemoJourney:
    """The sandbox's addresses and login, and the background run (its summary once done)."""

    base_url: str
    client_id: str
    client_secret: str
    run: asyncio.Task[dict[str, Any] | None]


def journey_definition(public_url: str, sender: str) -> dict[str, Any]:
    """The demo's journey, as a journey YAML file would describe it."""
    event = f"DEAudience-{JOURNEY}"
    activity = f"{public_url}/journey/{UNIT}"
    return {
        "name": JOURNEY,
        "entry": {
            "data_extension": ENTRY.key,
            "event_definition_key": event,
            "contact_key": "ContactKey",
        },
        "activities": [
            {
                "key": "SMS-1",
                "type": "custom",
                "config_url": f"{activity}/message/config.json",
                "in_arguments": [
                    {"channel": "sms"},
                    {"from": sender},
                    {
                        "text": f'Hi {{{{Event.{event}."FirstName"}}}}, your spring offer: '
                        "https://example.com/spring"
                    },
                    {"phone": f'{{{{Event.{event}."Mobile"}}}}'},
                    {"shortenUrl": "true"},
                    {"trackClicks": "true"},
                ],
                "next": "WAIT-1",
            },
            {"key": "WAIT-1", "type": "wait", "seconds": WAIT_SECONDS, "next": "REPORTS-1"},
            {
                "key": "REPORTS-1",
                "type": "custom",
                "config_url": f"{activity}/reports/config.json",
                "in_arguments": [{"messageId": "{{Interaction.SMS-1.messageId}}"}],
                "next": "SPLIT-1",
            },
            {
                "key": "SPLIT-1",
                "type": "decision_split",
                "branches": [
                    {
                        "label": "delivered",
                        "when": {
                            "value": "{{Interaction.REPORTS-1.statusGroupName}}",
                            "equals": "DELIVERED",
                        },
                        "next": None,
                    },
                    {
                        "label": "refused",
                        "when": {
                            "value": "{{Interaction.SMS-1.messageStatus}}",
                            "starts_with": "Error",
                        },
                        "next": None,
                    },
                    {"label": "not delivered", "next": None},
                ],
            },
        ],
    }


async def connect_unit(units: BusinessUnits, info: dict[str, str], account: str) -> None:
    """The "demo" unit on this run's sandbox address (its port changes each run)."""
    unit = UnitSettings(
        name=UNIT,
        mid=info["mid"],
        client_id=info["client_id"],
        auth_url=info["auth_url"],
        client_secret=info["client_secret"],
        jwt_secret=info["jwt_secret"],
        default_account=account,
        ca_cert=info["ca_cert"],
    )
    try:
        await units.get(UNIT)
    except NotFoundError:
        await units.add(unit)
    else:
        await units.edit(UNIT, unit)


async def prepare_sandbox(info: dict[str, str]) -> None:
    """peoplesync's data extensions and the entry one, with its five rows (all idempotent)."""
    verify = ssl.create_default_context(cafile=info["ca_cert"])
    async with httpx.AsyncClient(verify=verify, timeout=30) as http:
        client = MarketingCloudClient(
            info["auth_url"], info["client_id"], info["client_secret"], info["mid"], http
        )
        await deploy(client)
        await deploy_extension(client, ENTRY)
        rows = [
            {"keys": {"ContactKey": key}, "values": {"FirstName": name, "Mobile": phone}}
            for key, name, phone in CONTACTS
        ]
        await client.upsert_rowset(ENTRY.key, rows)


async def _until_up(public_url: str) -> bool:
    """Wait for serve's web app (it starts after the demo prints where to look)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SERVE_PATIENCE
    async with httpx.AsyncClient(timeout=5) as http:
        while loop.time() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(f"{public_url}/health")).status_code == 200:
                    return True
            await asyncio.sleep(0.5)
    return False


async def _delivery_rows(units: BusinessUnits) -> int:
    """How many rows SMS Delivery Reports holds now."""
    keys = await units.keys(UNIT)
    async with httpx.AsyncClient(verify=tls_verify(keys.info), timeout=30) as http:
        client = MarketingCloudClient(
            keys.info.auth_url, keys.info.client_id, keys.client_secret, keys.info.mid, http
        )
        return int(
            (await client.read_rows(SMS_DELIVERY_REPORTS.key, page_size=1)).get("count") or 0
        )


async def _write_back(units: BusinessUnits, expected: int, *, wait: float = 90.0) -> int:
    """The journey's delivery reports in SMS Delivery Reports: serve's write-back loop writes
    them on its own; one ``sync-reports`` pass here too, then the extension's rows are counted
    until ``expected`` more than before are there (or ``wait`` runs out)."""
    keys = await units.keys(UNIT)
    async with httpx.AsyncClient(verify=tls_verify(keys.info), timeout=30) as http:
        client = MarketingCloudClient(
            keys.info.auth_url, keys.info.client_id, keys.client_secret, keys.info.mid, http
        )
        key = SMS_DELIVERY_REPORTS.key
        sync = ReportSync(keys.info, ReportMarks(units.engine, units.clock), client, http)
        await sync.run_once()  # skipped while serve's own pass holds the unit
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            count = int((await client.read_rows(key, page_size=1)).get("count") or 0)
            if count >= expected or loop.time() >= deadline:
                return count
            await asyncio.sleep(1.0)
            await sync.run_once()


async def _run(
    data_dir: Path,
    definition: dict[str, Any],
    units: BusinessUnits,
    urls: tuple[str, str],
    say: Callable[[str], object],
) -> dict[str, Any] | None:
    public_url, base = urls
    if not await _until_up(public_url):
        say("the demo's journey did not run: the web app did not answer in time")
        return None
    journey = load_journey(definition)
    before = await _delivery_rows(units)
    options = RunOptions(jwt_secret=stored_credentials(data_dir)["jwt_secret"])
    store = SandboxStore(SandboxConfig(data_dir, "", "", "").database_path)
    journeys = JourneyStore(data_dir)
    await store.open()
    await journeys.open()
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            runner = JourneyRunner(journey, options, http, store, journeys)
            summary = await runner.run()
    finally:
        await journeys.close()
        await store.close()
    branches = ", ".join(f"{n} {label}" for label, n in summary["branches"]["SPLIT-1"].items())
    say(
        f"demo journey {summary['run']}: {summary['finished']} of {summary['contacts']} "
        f"contacts through ({branches}); see {base}/sandbox/journeys/{summary['run']} "
        f"and a contact's path {base}/sandbox/journeys/{summary['run']}/contacts/{CONTACTS[0][0]}"
    )
    rows = await _write_back(units, before + summary["contacts"]) - before
    summary["written_back"] = rows
    say(f"demo journey reports written back: {rows} rows into SMS Delivery Reports")
    return summary


async def _guarded(
    run: Coroutine[Any, Any, dict[str, Any] | None], say: Callable[[str], object]
) -> dict[str, Any] | None:
    """The run, its failure said rather than lost in a background task."""
    try:
        return await run
    except (JourneyProblem, PeopleSyncError, httpx.HTTPError) as error:
        say(f"the demo's journey failed: {getattr(error, 'message', None) or error}")
        return None


@asynccontextmanager
async def journey_beside_serve(
    engine: AsyncEngine,
    box: SecretBox,
    clock: Clock,
    data_dir: Path,
    public_url: str,
    account: str,
    sender: str,
    say: Callable[[str], object],
) -> AsyncIterator[DemoJourney | None]:
    """While open: the Marketing Cloud sandbox on ``data_dir``, the unit and extensions, and
    the journey running in the background once ``public_url`` answers (None: set-up failed,
    said through ``say``)."""
    credentials = stored_credentials(data_dir)
    config = SandboxConfig(
        data_dir,
        credentials["client_id"],
        credentials["client_secret"],
        credentials["jwt_secret"],
        seed=42,
    )
    stop = asyncio.Event()
    ready: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
    tls = ensure_tls(data_dir / "tls")
    sandbox = asyncio.create_task(serve(config, "127.0.0.1", 0, ready.set_result, stop, tls))
    run: asyncio.Task[dict[str, Any] | None] | None = None
    try:
        info = await asyncio.wait_for(asyncio.shield(ready), timeout=30)
        units = BusinessUnits(engine, box, clock)
        shown = None
        try:
            await prepare_sandbox(info)
            await connect_unit(units, info, account)
        except (PeopleSyncError, httpx.HTTPError) as error:
            say(f"the demo's journey was not set up: {error}")
        else:
            definition = journey_definition(public_url, sender)
            base = info["auth_url"].rstrip("/")
            urls = (public_url, base)
            run = asyncio.create_task(_guarded(_run(data_dir, definition, units, urls, say), say))
            shown = DemoJourney(base, info["client_id"], info["client_secret"], run)
        yield shown
    finally:
        stop.set()
        if run is not None:
            run.cancel()
        for task in (run, sandbox):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, timeout=10)


def journey_lines(journey: DemoJourney | None, people: str) -> list[str]:
    """Where to look for the demo's journey."""
    if journey is None:
        return ["[b]Marketing Cloud[/b]: the demo's journey was not set up (see above)."]
    base = journey.base_url
    contact = CONTACTS[0][0]
    return [
        f"[b]Marketing Cloud sandbox[/b] {base}/sandbox "
        f"(login {journey.client_id} / {journey.client_secret}; business unit {UNIT!r})",
        f"  A journey runs in the background once the web app is up: {len(CONTACTS)} contacts "
        f"of {ENTRY.key} get an SMS with a tracked link, wait {WAIT_SECONDS:g} s, and the "
        "delivery split routes them by their reports (3 delivered, 2 not).",
        f"  journey runs       {base}/sandbox/journeys (the newest run of {JOURNEY})",
        f"  a contact's path   {base}/sandbox/journeys/RUN/contacts/{contact} "
        "(RUN: the run's id, printed when it ends)",
        f"  delivery reports   {base}/sandbox/extensions/peoplesync_sms_delivery_reports "
        "(written back by serve's write-back loop)",
        f"  entry rows         {base}/sandbox/extensions/{ENTRY.key}",
        f"  the messages       {people}/messages",
    ]


__all__ = [
    "DemoJourney",
    "connect_unit",
    "journey_beside_serve",
    "journey_definition",
    "journey_lines",
    "prepare_sandbox",
]
