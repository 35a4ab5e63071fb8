"""The queue's passes on a real People store: which integrations hold a push loop."""

from __future__ import annotations

from pathlib import Path

from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.sync.profile.store import hold_outbound
from peoplesync.workers.queue.passes import EnginePasses
from tests.services import services_on


async def test_only_integrations_with_enabled_outbound_steps_are_pushing(
    store: SqlPeopleStore, tmp_path: Path
) -> None:
    for name in ("pushes", "held"):
        await store.set_state(f"integration:{name}", {"name": name})
    # The default profile enables its outbound steps; a new connection holds them for review.
    assert await hold_outbound(store, "held") != []
    passes = EnginePasses(services_on(store, tmp_path))
    assert await passes.pushing() == {"pushes"}
