"""A served sandbox org connected to the web app's store, for the steps tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.secret_box import SecretBox
from peoplesync.settings import Settings
from peoplesync.sync.integration import Integration, save_integration
from peoplesync.sync.org_client import client_opener
from peoplesync.sync.profile.step_edits import ClientOpener
from peoplesync.web.app import create_app
from tests.served_org import served_org
from tests.services import services_on
from tests.web.conftest import FAST_HASHER


async def connect_org(store: SqlPeopleStore, info: dict[str, Any], data_dir: Path) -> ClientOpener:
    """Store the org as integration ``default`` (secrets sealed) and return a client opener."""
    settings = Settings(data_dir=data_dir, secret_key=None)
    box = SecretBox.from_data_dir(settings.data_dir, None)
    await save_integration(
        store,
        box,
        Integration(
            name="default",
            login_url=info["login_url"],
            client_id=info["client_id"],
            client_secret=info["client_secret"],
            username=info["username"],
            password=info["password"],
            ca_cert=info["ca_cert"],
        ),
    )
    return client_opener(box)


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One sandbox org per test module (it takes a while to start)."""
    with served_org(tmp_path_factory.mktemp("org"), "--seed-leads", "10") as info:
        yield info


@pytest.fixture
async def app(store: SqlPeopleStore, org: dict[str, Any], tmp_path: Path) -> FastAPI:
    """The web app on the test store, connected to the served org."""
    opener = await connect_org(store, org, tmp_path / "data")
    return create_app(
        services_on(store, tmp_path / "data", open_org=opener), password_hasher=FAST_HASHER
    )
