"""Salesforce integrations as the web shows them (the list, one status), and pausing and
resuming one."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.people.store import PeopleStore
from peoplesync.sync.integration import integration_key, integration_names, require_integration
from peoplesync.sync.profile.store import load_profile
from peoplesync.sync.status.report import status_report
from peoplesync.sync.status.schedule_keeper import step_schedules
from peoplesync.sync.status.state import paused, resumed
from peoplesync.sync.status.store import StatusStore
from peoplesync.web.accounts import User
from peoplesync.web.salesforce_connect import Connector


async def integration_status(
    store: PeopleStore, statuses: StatusStore, name: str, *, days: int = 7
) -> dict[str, Any]:
    """The status page's data (the same as ``peoplesync status --json``)."""
    await require_integration(store, name)
    report = await status_report(statuses, name, days=days)
    held = (await load_profile(store, name)).awaiting_review()
    schedules = await step_schedules(store, statuses, name)
    return {**report, "outbound_awaiting_review": held, "schedules": schedules}


async def pause_integration(
    store: PeopleStore, statuses: StatusStore, name: str, user: User
) -> str:
    """Pause the integration; sync passes refuse to run until it is resumed."""
    await require_integration(store, name)
    now = statuses.clock.now()
    after = await statuses.transition(name, lambda s: paused(s, now))
    await statuses.log(name, "pause", detail=f"paused by {user.email}")
    return after.state.value


async def resume_integration(
    store: PeopleStore, statuses: StatusStore, name: str, user: User
) -> str:
    """Resume the integration (also clears an API-limit or reconnect state)."""
    await require_integration(store, name)
    now = statuses.clock.now()
    after = await statuses.transition(name, lambda s: resumed(s, now))
    await statuses.log(name, "resume", detail=f"resumed by {user.email}")
    return after.state.value


async def integrations_overview(
    store: PeopleStore, engine: AsyncEngine, statuses: StatusStore, connector: Connector | None
) -> list[dict[str, Any]]:
    """Every integration with its state, org and whether its sync workers run (None when
    this process runs no workers)."""
    running = set(connector.running()) if connector and connector.running else None
    shown: list[dict[str, Any]] = []
    for name in await integration_names(engine):
        stored = await store.get_state(integration_key(name)) or {}
        status = await statuses.status(name)
        shown.append(
            {
                "name": name,
                "state": status.state.value,
                "reason": status.reason,
                "login_url": stored.get("login_url"),
                "organization_id": stored.get("organization_id"),
                "outbound_awaiting_review": (await load_profile(store, name)).awaiting_review(),
                "instance_url": stored.get("instance_url"),
                "workers": None if running is None else name in running,
                "status_url": f"/salesforce/status?name={quote(name)}",
            }
        )
    return shown


__all__ = [
    "integration_status",
    "integrations_overview",
    "pause_integration",
    "require_integration",
    "resume_integration",
]
