"""The sync workers ``peoplesync serve`` runs beside the web app: for every connected
integration, the inbound follow loop of ``sync run --follow`` and the push loop of
``push run --follow``.

A supervisor keeps each loop going: it starts it when the status gate lets passes run, stops
it as soon as a person pauses the integration (or it must be connected again, or is deleted),
starts it again on resume, and restarts it with a growing delay after a failure. Connecting an
integration in the web app starts its workers at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from peoplesync.clock import Clock, SystemClock
from peoplesync.errors import PeopleSyncError
from peoplesync.outbound_cli import push_passes
from peoplesync.people.sql_store import SqlPeopleStore
from peoplesync.settings import Settings
from peoplesync.sync.connection import review_hint
from peoplesync.sync.inbound_report import InboundReport
from peoplesync.sync.integration import integration_names
from peoplesync.sync.outbound import OutboundReport
from peoplesync.sync.profile_store import load_profile
from peoplesync.sync.status import gate
from peoplesync.sync.status_store import StatusStore
from peoplesync.sync_cli import inbound_passes
from peoplesync.sync_session import connected_client

Say = Callable[[str], Any]
Loop = Callable[[], Coroutine[Any, Any, int]]


class SyncWorkers:
    """The inbound and outbound loops of every connected integration, in this process."""

    def __init__(
        self,
        settings: Settings,
        store: SqlPeopleStore,
        *,
        say: Say = print,
        clock: Clock | None = None,
        check_every: float = 2.0,
        idle: float = 30.0,
        sync_interval: float = 60.0,
        push_interval: float = 2.0,
    ) -> None:
        self.settings = settings
        self.store = store
        self.say = say
        self.clock = clock or SystemClock()
        self.statuses = StatusStore(store.engine, self.clock)
        self.check_every = check_every
        self.idle = idle
        self.sync_interval = sync_interval
        self.push_interval = push_interval
        self._told_review: set[str] = set()  # integrations told their outbound awaits review
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._nudged = asyncio.Event()

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start the workers of every stored integration."""
        for name in await integration_names(self.store.engine):
            self.ensure(name)

    def ensure(self, name: str) -> None:
        """Start the workers of ``name`` unless they run already."""
        task = self._tasks.get(name)
        if task is None or task.done():
            self._tasks[name] = asyncio.create_task(self._supervise(name))

    async def connected(self, name: str) -> None:
        """An integration was connected (or connected again): make sure it is worked on."""
        self.ensure(name)
        self.nudge()

    def nudge(self) -> None:
        """Look at every integration's state now rather than at the next check."""
        self._nudged.set()
        self._nudged.clear()

    def running(self) -> list[str]:
        """The integrations whose workers are up."""
        return sorted(name for name, task in self._tasks.items() if not task.done())

    async def stop(self) -> None:
        """Stop every worker and wait for them to end (their passes record what they did)."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if tasks:
            self.say(f"sync workers stopped ({len(tasks)} integration(s))")

    @asynccontextmanager
    async def running_beside(self, _app: object = None) -> AsyncIterator[None]:
        """A lifespan for the web app: workers up while it serves, stopped on shutdown."""
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    # --- supervision --------------------------------------------------------------------

    async def _supervise(self, name: str) -> None:
        await asyncio.gather(
            self._keep(name, "sync", lambda: self._inbound(name)),
            self._keep(name, "push", lambda: self._outbound(name)),
        )

    async def _may_run(self, name: str) -> bool | None:
        """True when passes may run, False while refused (paused, reconnect needed), None
        when the integration is gone."""
        if await self.store.get_state(f"integration:{name}") is None:
            return None
        decision = gate(await self.statuses.status(name), self.clock.now())
        return decision.action != "refuse"

    async def _watch(self, name: str) -> None:
        """Return as soon as the integration is refused or gone."""
        while await self._may_run(name):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nudged.wait(), self.check_every)

    async def _keep(self, name: str, kind: str, loop: Loop) -> None:
        delay = self.check_every
        told_refused = False
        while True:
            try:
                allowed = await self._may_run(name)
            except PeopleSyncError as error:  # the database is busy or away: look again
                self.say(f"{name}: {kind} worker cannot read the status ({error})")
                allowed = False
            if allowed is None:
                self.say(f"{name}: the integration is gone; its {kind} worker stops")
                return
            if not allowed:
                if not told_refused:
                    self.say(f"{name}: {kind} worker waits until the integration may run")
                    told_refused = True
                await asyncio.sleep(self.check_every)
                continue
            told_refused = False
            code = await self._run_until_refused(name, kind, loop)
            if code is None:  # refused meanwhile: wait for resume
                continue
            if code == 0:  # nothing to do (no outbound steps): look again later
                await asyncio.sleep(self.idle)
                delay = self.check_every
                continue
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)

    async def _run_until_refused(self, name: str, kind: str, loop: Loop) -> int | None:
        """Run the loop until it ends (its exit code) or the gate refuses (None)."""
        work = asyncio.create_task(loop())
        watch = asyncio.create_task(self._watch(name))
        try:
            await asyncio.wait({work, watch}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            interrupted = not work.done()
            for task in (watch, work):
                if not task.done():
                    task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if interrupted:
            self.say(f"{name}: {kind} worker stopped (the integration may not run now)")
            return None
        error = work.exception()
        if error is None:
            code: int = work.result()
            return code
        if isinstance(error, PeopleSyncError):
            self.say(f"{name}: {kind} worker stopped: {error}")
        else:
            self.say(f"{name}: {kind} worker failed: {type(error).__name__}: {error}")
        return 1

    # --- the loops ----------------------------------------------------------------------

    def _stop(self, name: str, kind: str) -> Callable[..., int]:
        def stop(code: int, state: str, reason: str, until: datetime | None = None) -> int:
            when = f" until {until.isoformat(timespec='seconds')}" if until else ""
            self.say(f"{name}: {kind} {state}{when}: {reason}")
            return code

        return stop

    async def _inbound(self, name: str) -> int:
        def heard(summary: dict[str, Any]) -> None:
            for step, part in summary.items():
                if isinstance(part, dict) and (part["created"] or part["updated"]):
                    self.say(
                        f"{name}: {step} changes arrived from Salesforce: {part['created']} "
                        f"created, {part['updated']} updated in People (poll)"
                    )

        seen: dict[str, tuple[int, int, int]] = {}

        def streamed(step: str, report: InboundReport) -> None:
            now = (report.created, report.updated, report.deleted + report.unlinked)
            before = seen.get(step, (0, 0, 0))
            seen[step] = now
            created, updated, removed = (max(0, a - b) for a, b in zip(now, before, strict=True))
            if created or updated or removed:
                self.say(
                    f"{name}: {step} changes arrived from Salesforce: {created} created, "
                    f"{updated} updated, {removed} removed in People"
                )

        self.say(f"{name}: sync worker started")
        return await inbound_passes(
            self.settings,
            self.store,
            name,
            follow=True,
            interval=self.sync_interval,
            on_summary=heard,
            on_stream=streamed,
            stop=self._stop(name, "sync"),
            started_by="serve",
        )

    async def _outbound(self, name: str) -> int:
        def pushed(report: OutboundReport, calls: int) -> None:
            wrote = report.created + report.updated + report.deleted + report.linked
            if wrote or report.errors:
                self.say(
                    f"{name}: pushed to Salesforce: {report.created} created, {report.updated} "
                    f"updated, {report.deleted} deleted, {report.linked} linked by email, "
                    f"{len(report.errors)} error(s) ({calls} API calls)"
                )

        held = (await load_profile(self.store, name)).awaiting_review()
        if held and name not in self._told_review:
            self.say(
                f"{name}: the push worker writes nothing to Salesforce while the outbound "
                f"steps ({', '.join(held)}) are off until reviewed; {review_hint(name, held)}"
            )
        self._told_review = self._told_review | {name} if held else self._told_review - {name}
        async with connected_client(self.settings, self.store, name) as client:
            return await push_passes(
                self.store,
                client,
                name,
                follow=True,
                interval=self.push_interval,
                on_report=pushed,
                stop=self._stop(name, "push"),
            )


__all__ = ["SyncWorkers"]
