"""A Salesforce integration's status as the web shows it, and pausing and resuming it."""

from __future__ import annotations

from typing import Any

from peoplesync.errors import NotFoundError
from peoplesync.people.store import PeopleStore
from peoplesync.status_cli import status_report
from peoplesync.sync.status import paused, resumed
from peoplesync.sync.status_store import StatusStore
from peoplesync.web.accounts import User


async def require_integration(store: PeopleStore, name: str) -> None:
    """Raise NotFoundError unless an integration called ``name`` is connected."""
    if await store.get_state(f"integration:{name}") is None:
        raise NotFoundError(
            "no Salesforce integration has this name",
            record=name,
            field="integration",
            hint="connect one first: peoplesync salesforce connect ...",
        )


async def integration_status(
    store: PeopleStore, statuses: StatusStore, name: str, *, days: int = 7
) -> dict[str, Any]:
    """The status page's data (the same as ``peoplesync status --json``)."""
    await require_integration(store, name)
    return await status_report(statuses, name, days=days)


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


__all__ = ["integration_status", "pause_integration", "resume_integration"]
