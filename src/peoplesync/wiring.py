"""The one place that picks adapters: builds the store and services from settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from peoplesync.clock import Clock, SystemClock
from peoplesync.marketing_cloud.units import BusinessUnits
from peoplesync.messaging.accounts import ProviderAccounts
from peoplesync.messaging.links.store import ShortLinks
from peoplesync.messaging.outbox import Outbox
from peoplesync.messaging.sender_names import SenderNames
from peoplesync.people.database import create_engine, migrate
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.people.store import PeopleStore
from peoplesync.secret_box import SecretBox
from peoplesync.settings import Settings
from peoplesync.sync.status_store import StatusStore


@asynccontextmanager
async def people_store(
    settings: Settings, *, clock: Clock | None = None
) -> AsyncIterator[SqlPeopleStore]:
    """A migrated People store on the configured database, closed on exit."""
    engine = create_engine(settings.resolved_database_url())
    try:
        await migrate(engine)
        yield SqlPeopleStore(
            engine,
            clock or SystemClock(),
            batch_size=settings.batch_size,
            default_phone_region=settings.default_phone_region,
        )
    finally:
        await engine.dispose()


def status_store(store: PeopleStore, clock: Clock | None = None) -> StatusStore:
    """The integration status tables beside a People store, on its database."""
    if not isinstance(store, SqlPeopleStore):
        raise TypeError("integration status needs the SQL People store")
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
    engine = create_engine(settings.resolved_database_url())
    try:
        await migrate(engine)
        box = SecretBox.from_data_dir(settings.data_dir, settings.secret_key)
        yield BusinessUnits(engine, box, clock or SystemClock())
    finally:
        await engine.dispose()
