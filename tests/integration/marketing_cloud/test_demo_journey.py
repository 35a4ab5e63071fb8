"""The demo's journey set-up survives a restart: the Marketing Cloud sandbox started twice on
the same data dir (a new port each time), the set-up run each time, leaves one business unit
on the latest address, the data extensions once each and the entry extension's five rows."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import ManualClock
from peoplesync.demo_journey import (
    CONTACTS,
    ENTRY,
    UNIT,
    connect_unit,
    journey_definition,
    prepare_sandbox,
)
from peoplesync.marketing_cloud.data_extensions import DATA_EXTENSIONS
from peoplesync.marketing_cloud.units import BusinessUnits
from peoplesync.sandbox.marketing_cloud.config import SandboxConfig
from peoplesync.sandbox.marketing_cloud.journey_bindings import check_journey
from peoplesync.sandbox.marketing_cloud.journey_model import load_journey
from peoplesync.sandbox.marketing_cloud.server import serve, stored_credentials
from peoplesync.sandbox.marketing_cloud.store import SandboxStore
from peoplesync.sandbox.salesforce.keys import ensure_tls
from peoplesync.secret_box import SecretBox


async def _start_and_set_up(root: Path, units: BusinessUnits) -> dict[str, str]:
    """One demo start's set-up against a freshly started sandbox; returns its info."""
    credentials = stored_credentials(root)
    config = SandboxConfig(
        root,
        credentials["client_id"],
        credentials["client_secret"],
        credentials["jwt_secret"],
    )
    stop = asyncio.Event()
    ready: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()
    tls = ensure_tls(root / "tls")
    task = asyncio.create_task(serve(config, "127.0.0.1", 0, ready.set_result, stop, tls))
    try:
        info = await asyncio.wait_for(asyncio.shield(ready), timeout=30)
        await prepare_sandbox(info)
        await connect_unit(units, info, "sandbox")
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)
    return info


async def test_a_second_demo_start_reuses_the_unit_and_extensions(
    engine: AsyncEngine, clock: ManualClock, tmp_path: Path
) -> None:
    units = BusinessUnits(engine, SecretBox(Fernet.generate_key()), clock)
    root = tmp_path / "sandbox-marketing-cloud"
    first = await _start_and_set_up(root, units)
    second = await _start_and_set_up(root, units)
    assert first["auth_url"] != second["auth_url"]  # a new port: the unit must follow
    [unit] = await units.list()
    assert unit.name == UNIT and unit.auth_url == second["auth_url"].rstrip("/")
    assert unit.default_account == "sandbox" and unit.ca_cert == second["ca_cert"]
    keys = await units.keys(UNIT)
    assert keys.client_secret == second["client_secret"] and keys.signing_keys
    store = SandboxStore(SandboxConfig(root, "", "", "").database_path)
    await store.open()
    try:
        extensions = await store.extensions()
        entry = await store.extension(f"key:{ENTRY.key}")
        assert entry is not None
        rows = await store.rows(entry["id"])
    finally:
        await store.close()
    keys_deployed = sorted(each["key"] for each in extensions)
    assert keys_deployed == sorted([ENTRY.key, *(each.key for each in DATA_EXTENSIONS)])
    by_key = {row["ContactKey"]: row["Mobile"] for row in rows}
    assert by_key == {key: phone for key, _, phone in CONTACTS}


def test_the_demo_journey_is_a_valid_journey() -> None:
    journey = load_journey(journey_definition("http://127.0.0.1:8000", "PeopleSync"))
    check_journey(journey)
    assert [activity.key for activity in journey.activities] == [
        "SMS-1",
        "WAIT-1",
        "REPORTS-1",
        "SPLIT-1",
    ]
    assert journey.activities[0].config_url == (
        f"http://127.0.0.1:8000/journey/{UNIT}/message/config.json"
    )
