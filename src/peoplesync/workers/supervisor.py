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
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from peoplesync.clock import Clock, SystemClock
from peoplesync.errors import PeopleSyncError
from peoplesync.messaging.sender import SendRound
from peoplesync.observability.heartbeats import Heartbeats
from peoplesync.observability.log_format import log_context
from peoplesync.people.store import PeopleStore
from peoplesync.settings import Settings
from peoplesync.sync.connection import review_hint
from peoplesync.sync.integration import integration_names
from peoplesync.sync.profile.store import load_profile
from peoplesync.sync.status.state import gate
from peoplesync.sync.status.store import StatusStore
from peoplesync.sync_session import connected_client
from peoplesync.workers.change_streams import StreamNews
from peoplesync.workers.events import Event, PassDone, Retrying, StreamBatch, StreamTrouble
from peoplesync.workers.inbound import inbound_passes
from peoplesync.workers.outcome import Failed, Finished, Gated, Idle, Outcome, Stopped
from peoplesync.workers.push import PushPass, push_passes
from peoplesync.workers.report_loops import ReportLoops
from peoplesync.workers.report_sync import UnitPasses
from peoplesync.workers.sends import SendLoop

SENDS = "messages"  # the heartbeat's and messages' name of the message-send loop

Say = Callable[[str], Any]
Loop = Callable[[], Coroutine[Any, Any, Outcome]]
BACKOFF_CAP = 60.0  # seconds: the longest wait before a failed loop starts again
STOP_GRACE = 10.0  # seconds a supervisor has to end by itself once the workers stop


def after_run(
    outcome: Outcome, delay: float, *, check_every: float, idle: float
) -> tuple[float, float]:
    """How long to wait before starting a loop that ended with ``outcome`` again, and the
    delay after the next failure (failures in a row wait longer and longer)."""
    if isinstance(outcome, Stopped):  # the gate closed: the supervisor waits for it
        return 0.0, delay
    if isinstance(outcome, Finished | Idle):  # nothing to do: look again later
        return idle, check_every
    return delay, min(delay * 2, BACKOFF_CAP)


def describe(name: str, kind: str, outcome: Outcome) -> str | None:
    """What to say about a loop that ended with ``outcome`` (None: nothing worth saying)."""
    if isinstance(outcome, Gated):
        return f"{name}: {kind} {outcome.describe()}"
    if isinstance(outcome, Failed):
        error = outcome.error
        if isinstance(error, PeopleSyncError):
            return f"{name}: {kind} worker stopped: {error}"
        return f"{name}: {kind} worker failed: {type(error).__name__}: {error}"
    if isinstance(outcome, Stopped):
        return f"{name}: {kind} worker stopped ({outcome.reason})"
    return None


class SyncWorkers:
    """The inbound and outbound loops of every connected integration, in this process."""

    def __init__(
        self,
        settings: Settings,
        store: PeopleStore,
        statuses: StatusStore,
        *,
        say: Say = print,
        clock: Clock | None = None,
        check_every: float = 2.0,
        idle: float = 30.0,
        sync_interval: float = 60.0,
        push_interval: float = 2.0,
        sends: SendLoop | None = None,
        reports: UnitPasses | None = None,
        report_interval: float = 30.0,
    ) -> None:
        self.settings = settings
        self.store = store
        self.say = say
        self.clock = clock or SystemClock()
        self.statuses = statuses
        self.check_every = check_every
        self.idle = idle
        self.sync_interval = sync_interval
        self.push_interval = push_interval
        self._told_review: set[str] = set()  # integrations told their outbound awaits review
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._nudged = asyncio.Event()
        self.heartbeats = Heartbeats(self.clock)  # each loop's liveness, for /metrics
        self._stopping = asyncio.Event()
        self.sends = sends  # the message-send loop, kept going beside the integrations'
        self._sends_task: asyncio.Task[None] | None = None
        self._told_refused: set[str] = set()  # provider accounts told their key was refused
        # the report write-back loops of every Marketing Cloud business unit
        self.reports = (
            ReportLoops(
                reports,
                self.heartbeats,
                self._stopping,
                say=say,
                interval=report_interval,
                check_every=check_every,
            )
            if reports is not None
            else None
        )
        self._reports_task: asyncio.Task[None] | None = None

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start the workers of every stored integration (and the send loop)."""
        if self.sends is not None and (self._sends_task is None or self._sends_task.done()):
            self._sends_task = asyncio.create_task(self._keep_sending(self.sends))
        if self.reports is not None and (self._reports_task is None or self._reports_task.done()):
            self._reports_task = asyncio.create_task(self.reports.run())
        for name in await integration_names(self.statuses.engine):
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
        """Stop every worker and wait for them to end (their passes record what they did).

        The supervisors stop between two reads of the status rather than in one: the running
        loops are cancelled, the supervisors return; one that does not within STOP_GRACE
        seconds is cancelled too."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        sends, self._sends_task = self._sends_task, None
        reports, self._reports_task = self._reports_task, None
        self._stopping.set()
        self.nudge()
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_GRACE)
        others = [task for task in (sends, reports) if task is not None]
        if others:
            await asyncio.wait(others, timeout=STOP_GRACE)
        for task in [*tasks, *others]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._stopping.clear()
        if tasks:
            self.say(f"sync workers stopped ({len(tasks)} integration(s))")

    async def _rest(self, seconds: float) -> None:
        """Sleep, or less when the workers stop meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

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
        with log_context(integration=name):  # on every record of this integration's loops
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

    async def _watch(self, name: str, kind: str) -> None:
        """Return as soon as the integration is refused or gone; beat while it runs."""
        while not self._stopping.is_set() and await self._may_run(name):
            self.heartbeats.beat(name, kind)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nudged.wait(), self.check_every)

    async def _keep(self, name: str, kind: str, loop: Loop) -> None:
        delay = self.check_every
        told_refused = False
        while not self._stopping.is_set():
            try:
                allowed = await self._may_run(name)
            except PeopleSyncError as error:  # the database is busy or away: look again
                self.say(f"{name}: {kind} worker cannot read the status ({error})")
                allowed = False
            if allowed is None:
                self.say(f"{name}: the integration is gone; its {kind} worker stops")
                self.heartbeats.forget(name)
                return
            if not allowed:
                if not told_refused:
                    self.say(f"{name}: {kind} worker waits until the integration may run")
                    told_refused = True
                self.heartbeats.beat(name, kind)  # alive, waiting for a resume
                await self._rest(self.check_every)
                continue
            told_refused = False
            with log_context(job=f"{kind}-{uuid.uuid4().hex[:12]}", loop=kind):  # on its records
                outcome = await self._run_until_refused(name, kind, loop)
                if self._stopping.is_set():
                    return
                said = describe(name, kind, outcome)
                if said is not None:
                    self.say(said)
            wait, delay = after_run(outcome, delay, check_every=self.check_every, idle=self.idle)
            if wait:
                await self._rest(wait)

    async def _run_until_refused(self, name: str, kind: str, loop: Loop) -> Outcome:
        """Run the loop until it ends (its outcome) or the gate refuses (Stopped)."""
        work = asyncio.create_task(loop())
        watch = asyncio.create_task(self._watch(name, kind))
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
            return Stopped("the integration may not run now")
        error = work.exception()
        if error is None:
            return work.result()
        if isinstance(error, Exception):
            return Failed(error)
        raise error

    async def _keep_sending(self, loop: SendLoop) -> None:
        """The message-send loop until the workers stop, started again with a growing delay
        after a failure."""
        delay = self.check_every
        with log_context(loop="send"):
            while not self._stopping.is_set():
                self.heartbeats.beat(SENDS, "send")
                with log_context(job=f"send-{uuid.uuid4().hex[:12]}"):
                    try:
                        outcome = await loop(self._stopping, self._sent)
                    except Exception as error:
                        outcome = Failed(error)
                    if self._stopping.is_set():
                        return
                    said = describe(SENDS, "send", outcome)
                    if said is not None:
                        self.say(said)
                wait, delay = after_run(outcome, delay, check_every=self.check_every, idle=0.0)
                if wait:
                    await self._rest(wait)

    def _sent(self, event: Event) -> None:
        """A send round: a heartbeat, and a word about accounts whose key was refused."""
        self.heartbeats.beat(SENDS, "send")
        report = event.report if isinstance(event, PassDone) else None
        if not isinstance(report, SendRound):
            return
        if report.accepted or report.rejected:
            self.say(f"{SENDS}: sent {report.accepted}, rejected {report.rejected}")
        for account in report.stopped:
            if account not in self._told_refused:
                self.say(f"{SENDS}: provider account {account!r} refused its key; others go on")
        self._told_refused = (self._told_refused | set(report.stopped)) if report.stopped else set()

    # --- the loops ----------------------------------------------------------------------

    def _told(self, name: str, kind: str, event: Event) -> bool:
        """Say a loop's trouble (True when ``event`` was one)."""
        if isinstance(event, Retrying):
            self.say(f"{name}: {kind}: {event.error}; retrying")
        elif isinstance(event, StreamTrouble):
            then = "polling continues" if event.gave_up else "retrying"
            self.say(f"{name}: {event.step} change stream: {event.error}; {then}")
        else:
            return False
        return True

    async def _inbound(self, name: str) -> Outcome:
        news = StreamNews()

        def heard(event: Event) -> None:
            if isinstance(event, PassDone):
                for step, part in event.report.items():
                    if isinstance(part, dict) and (part["created"] or part["updated"]):
                        self.say(
                            f"{name}: {step} changes arrived from Salesforce: {part['created']} "
                            f"created, {part['updated']} updated in People (poll)"
                        )
            elif isinstance(event, StreamBatch):
                said = news.heard(event.step, event.report)
                if said is not None:
                    self.say(f"{name}: {said}")
            else:
                self._told(name, "sync", event)

        self.say(f"{name}: sync worker started")
        return await inbound_passes(
            self.settings,
            self.store,
            self.statuses,
            name,
            follow=True,
            interval=self.sync_interval,
            events=heard,
            started_by="serve",
        )

    async def _outbound(self, name: str) -> Outcome:
        def pushed(event: Event) -> None:
            if not isinstance(event, PassDone) or not isinstance(event.report, PushPass):
                self._told(name, "push", event)
                return
            report, calls = event.report.report, event.report.api_calls
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
                self.statuses,
                client,
                name,
                follow=True,
                interval=self.push_interval,
                events=pushed,
            )


__all__ = ["SyncWorkers", "after_run", "describe"]
