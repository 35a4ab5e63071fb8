"""Fixtures of the web tests: the app on a real store, users of both roles, HTTP clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from cryptography.fernet import Fernet
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import ManualClock
from peoplesync.people.model import ExternalLink, PersonInput
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.secret_box import SecretBox
from peoplesync.sync.status.state import Counts, Problem
from peoplesync.sync.status.store import StatusStore
from peoplesync.web.accounts import Accounts, Role
from peoplesync.web.app import create_app
from tests.services import services_on

ADMIN_EMAIL = "admin@example.com"
VIEWER_EMAIL = "viewer@example.com"
PASSWORD = "correct horse battery"
BASE_URL = "https://peoplesync.test"

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@dataclass(frozen=True)
class Users:
    """Tokens of a seeded admin and viewer."""

    admin_token: str
    viewer_token: str


# Real argon2id, with the cost turned down so tests stay fast.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def app(store: SqlPeopleStore, tmp_path: Path) -> FastAPI:
    """The web app on the test store, with a secret key as `peoplesync serve` has (it seals
    provider API keys and signs report URLs)."""
    box = SecretBox(Fernet.generate_key())
    return create_app(services_on(store, tmp_path / "data", box=box), password_hasher=FAST_HASHER)


@pytest.fixture
def accounts(engine: AsyncEngine, clock: ManualClock) -> Accounts:
    """The accounts on the test database."""
    return Accounts(engine, clock, hasher=FAST_HASHER)


@pytest.fixture
async def users(accounts: Accounts) -> Users:
    """An admin and a viewer, each with an API token."""
    admin = await accounts.add_user(ADMIN_EMAIL, PASSWORD, Role.ADMIN)
    viewer = await accounts.add_user(VIEWER_EMAIL, PASSWORD, Role.VIEWER)
    return Users(await accounts.issue_token(admin), await accounts.issue_token(viewer))


@pytest.fixture
def client(app: FastAPI) -> ClientFactory:
    """Open an HTTP client on the app, optionally with a Bearer token."""

    def open_client(token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers=headers
        )

    return open_client


@pytest.fixture
async def admin(client: ClientFactory, users: Users) -> AsyncIterator[httpx.AsyncClient]:
    """An API client acting as the admin."""
    async with client(users.admin_token) as http:
        yield http


@pytest.fixture
async def viewer(client: ClientFactory, users: Users) -> AsyncIterator[httpx.AsyncClient]:
    """An API client acting as the viewer."""
    async with client(users.viewer_token) as http:
        yield http


@pytest.fixture
async def anonymous(client: ClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    """An API client without credentials."""
    async with client() as http:
        yield http


async def seed_people(store: SqlPeopleStore) -> list[str]:
    """Ada Lovelace (linked to a Lead), Alan Turing and Grace Hopper; their ids in that order."""
    result = await store.upsert_persons(
        [
            PersonInput(
                values={"first_name": "Ada", "last_name": "Lovelace", "city": "London"},
                emails=["ada@example.com"],
                phones=["+442071234567"],
            ),
            PersonInput(
                values={"first_name": "Alan", "last_name": "Turing", "city": "Manchester"},
                emails=["alan.turing@example.org"],
            ),
            PersonInput(
                values={"first_name": "Grace", "last_name": "Hopper"},
                emails=["grace@navy.example"],
            ),
        ],
        origin="test",
    )
    ids = [i for i in result.ids if i is not None]
    await store.set_state(
        "integration:default", {"login_url": "https://org.example.my.salesforce.com"}
    )
    await store.save_links(
        [ExternalLink("person", ids[0], "salesforce:default", "Lead", "00Q000000000001AAA")]
    )
    return ids


async def seed_status(store: SqlPeopleStore, clock: ManualClock) -> None:
    """Counts, a rejected record and an operation for the default integration."""
    statuses = StatusStore(store.engine, clock)
    today = clock.now().date()
    await statuses.add_counts("default", today, "Lead -> Person", Counts(created=3, rejected=1))
    await statuses.add_counts("default", today, "", Counts(api_calls=7))
    await statuses.mark_synced("default", "Lead -> Person", clock.now())
    await statuses.record_problems(
        "default",
        "Lead -> Person",
        [
            Problem(
                "error",
                "INVALID_EMAIL",
                "00Q000000000002AAA",
                "Email",
                "not an email address",
                "give an address like name@example.com",
            )
        ],
    )
    await statuses.log("default", "sync", records=4, detail="4 record(s)")
