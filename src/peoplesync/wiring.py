"""The one place that picks adapters: builds the typed ``Services`` the web app, the workers
and the commands share, from settings.

Every store here works on one database (``Services.engine``); nothing reaches through the
People store for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import Clock, SystemClock
from peoplesync.errors import ConfigurationError
from peoplesync.marketing_cloud.units import BusinessUnits
from peoplesync.messaging.accounts import ProviderAccounts
from peoplesync.messaging.links.store import ShortLinks
from peoplesync.messaging.outbox import Outbox
from peoplesync.messaging.report_store import ReportStore
from peoplesync.messaging.sender_names import SenderNames
from peoplesync.people.database import create_engine, migrate
from peoplesync.people.segment_store import SegmentStore
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.secret_box import SecretBox
from peoplesync.settings import Settings
from peoplesync.sync.integration import Integration, integration_names, load_integration
from peoplesync.sync.org_client import client_opener
from peoplesync.sync.profile.model import Profile
from peoplesync.sync.profile.step_edits import ClientOpener
from peoplesync.sync.profile.store import load_profile
from peoplesync.sync.status.store import StatusStore
from peoplesync.sync.transfer.jobs import TransferJobStore


class JobQueue(Protocol):
    """Where work is queued for the workers (the procrastinate app fills this slot)."""

    async def defer(self, task: str, **arguments: Any) -> None:
        """Queue one run of ``task`` with ``arguments``."""


@dataclass(frozen=True)
class Services:
    """Everything the web app, the workers and the commands use, built once per process."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine  # the one database every store below works on
    people: SqlPeopleStore  # the workers take it as a PeopleStore, beside ``statuses``; the
    # rest sees it through the protocol too and gets the database from ``engine``
    statuses: StatusStore
    box: SecretBox  # seals and unseals stored credentials
    outbox: Outbox
    provider_accounts: ProviderAccounts
    units: BusinessUnits  # Marketing Cloud business units
    open_org: ClientOpener | None  # None: nothing reaches Salesforce (checks use People only)
    jobs: JobQueue | None = None

    def segments(self) -> SegmentStore:
        """The saved People segments."""
        return SegmentStore(self.engine, self.clock)

    def transfer_jobs(self) -> TransferJobStore:
        """The transfer jobs and their history."""
        return TransferJobStore(self.engine, self.clock)

    def reports(self) -> ReportStore:
        """The messaging providers' delivery and seen reports."""
        return ReportStore(self.engine, self.clock)

    async def integration_names(self) -> list[str]:
        """The stored integrations, by name."""
        return await integration_names(self.engine)

    async def integration(self, name: str) -> Integration:
        """The stored integration ``name`` with its unsealed credentials."""
        return await load_integration(self.people, self.box, name)

    def org_client(self, name: str = "default") -> AbstractAsyncContextManager[SalesforceClient]:
        """A client of the stored integration ``name`` (closed on exit)."""
        if self.open_org is None:
            raise ConfigurationError(
                "this process was started without a way to reach Salesforce",
                hint="start it with peoplesync serve",
            )
        return self.open_org(self.people, name)

    async def profile(self, integration: str = "default") -> Profile:
        """The sync profile of ``integration`` (the shipped default until one is saved)."""
        return await load_profile(self.people, integration)


def sql_people(settings: Settings, engine: AsyncEngine, clock: Clock) -> SqlPeopleStore:
    """The People store on ``engine`` with the configured batch size and phone region."""
    return SqlPeopleStore(
        engine,
        clock,
        batch_size=settings.batch_size,
        default_phone_region=settings.default_phone_region,
    )


def build_services(
    settings: Settings,
    engine: AsyncEngine,
    *,
    people: SqlPeopleStore | None = None,
    clock: Clock | None = None,
    box: SecretBox | None = None,
    open_org: ClientOpener | None = None,
    jobs: JobQueue | None = None,
) -> Services:
    """The services on a migrated ``engine`` (the caller owns and disposes of it).
    ``open_org`` is None unless given: ``services`` gives the stored integrations' opener."""
    used = clock or SystemClock()
    sealed = box or SecretBox.from_data_dir(settings.data_dir, settings.secret_key)
    return Services(
        settings=settings,
        clock=used,
        engine=engine,
        people=people or sql_people(settings, engine, used),
        statuses=StatusStore(engine, used),
        box=sealed,
        outbox=Outbox(engine, used, link_base=settings.public_url),  # tracked links' domain
        provider_accounts=ProviderAccounts(engine, sealed, used),
        units=BusinessUnits(engine, sealed, used),
        open_org=open_org,
        jobs=jobs,
    )


@asynccontextmanager
async def services(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Services]:
    """The services on the configured database (migrated first), closed on exit."""
    engine = create_engine(settings.resolved_database_url())
    try:
        await migrate(engine)
        box = SecretBox.from_data_dir(settings.data_dir, settings.secret_key)
        yield build_services(settings, engine, clock=clock, box=box, open_org=client_opener(box))
    finally:
        await engine.dispose()


@asynccontextmanager
async def people_store(
    settings: Settings, *, clock: Clock | None = None
) -> AsyncIterator[SqlPeopleStore]:
    """A migrated People store on the configured database, closed on exit (the commands that
    run a sync, push or transfer loop need no other service)."""
    engine = create_engine(settings.resolved_database_url())
    try:
        await migrate(engine)
        yield sql_people(settings, engine, clock or SystemClock())
    finally:
        await engine.dispose()


def status_store(store: SqlPeopleStore, clock: Clock | None = None) -> StatusStore:
    """The integration status on the SQL People store's database (the commands hand it to
    the loops in ``workers/`` beside the store)."""
    return StatusStore(store.engine, clock or store.clock)


@dataclass(frozen=True)
class Messaging:
    """The messaging services on the People database."""

    outbox: Outbox
    accounts: ProviderAccounts
    clock: Clock
    box: SecretBox
    senders: SenderNames
    links: ShortLinks


@asynccontextmanager
async def messaging(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Messaging]:
    """The outbox and provider accounts on the configured (migrated) database."""
    engine = create_engine(settings.resolved_database_url())
    used = clock or SystemClock()
    try:
        await migrate(engine)
        box = SecretBox.from_data_dir(settings.data_dir, settings.secret_key)
        yield Messaging(
            Outbox(engine, used, link_base=settings.public_url),
            ProviderAccounts(engine, box, used),
            used,
            box,
            SenderNames(engine, used),
            ShortLinks(engine, used),
        )
    finally:
        await engine.dispose()


@asynccontextmanager
async def business_units(
    settings: Settings, *, clock: Clock | None = None
) -> AsyncIterator[BusinessUnits]:
    """The Marketing Cloud business units on the configured (migrated) database."""
    async with services(settings, clock=clock) as wired:
        yield wired.units


__all__ = [
    "JobQueue",
    "Services",
    "build_services",
    "business_units",
    "people_store",
    "services",
    "sql_people",
    "status_store",
]
