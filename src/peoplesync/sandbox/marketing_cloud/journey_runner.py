"""The sandbox's Journey Builder: runs a journey over its entry data extension's rows.

Each row is a contact. The runner loads every custom activity's config.json, calls save,
validate and publish once, then walks each contact through the activities: execute with the
contact's resolved in-arguments (see ``journey_calls``), waits, Wait Until Event (an API
event fired to the sandbox for the contact resumes it), RESTDECISION outcomes and decision
splits. Every step is recorded in the sandbox's data dir (``journey_store``).

``inject_retry_rate`` re-sends, for that share of successful executes (chosen by a hash of
the seed, contact and activity, so a run repeats), the same call again as Journey Builder
does when an answer is lost: same activityId and definitionInstanceId. A well-behaved
activity answers it the same and does not act twice.

A run whose runner was killed is continued by the next run of the same journey (unless
``resume`` is off): the same run id, so the same journey and instance ids, and each contact
from where its recorded steps leave it (``journey_resume``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from peoplesync.sandbox.marketing_cloud.journey_bindings import (
    ContactData,
    check_journey,
    resolve_arguments,
    route,
)
from peoplesync.sandbox.marketing_cloud.journey_calls import ActivityCaller, ClientFor
from peoplesync.sandbox.marketing_cloud.journey_events import EventWatch
from peoplesync.sandbox.marketing_cloud.journey_model import Activity, Journey, JourneyProblem
from peoplesync.sandbox.marketing_cloud.journey_resume import Standing, recorded_tally, standing
from peoplesync.sandbox.marketing_cloud.journey_store import FLUSH_SECONDS, JourneyStore, Step
from peoplesync.sandbox.marketing_cloud.store import SandboxStore

NAMESPACE = uuid.UUID("5b0c7f1e-2f53-4c1a-9b61-0d6f3a1c9e11")


@dataclass(frozen=True)
class RunOptions:
    jwt_secret: str
    inject_retry_rate: float = 0.0
    seed: int = 0
    poll_seconds: float = 0.2  # how often Wait Until Event looks for new events
    max_in_flight: int = 20_000  # contacts inside the journey at once
    resume: bool = True  # continue the journey's latest run if it never finished


@dataclass
class _Tally:
    paths: Counter[str] = field(default_factory=Counter)
    branches: dict[str, Counter[str]] = field(default_factory=dict)
    ejected: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    retry_differs: Counter[str] = field(default_factory=Counter)
    execute_ms: dict[str, list[float]] = field(default_factory=dict)
    done: int = 0


class JourneyRunner:
    def __init__(
        self,
        journey: Journey,
        options: RunOptions,
        http: httpx.AsyncClient,
        store: SandboxStore,
        journeys: JourneyStore,
        progress: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
        client_for: ClientFor | None = None,
    ) -> None:
        check_journey(journey)
        self.journey = journey
        self.options = options
        self._http = http
        self._client_for = client_for
        self._store = store
        self._journeys = journeys
        self._progress = progress or (lambda _: None)
        self._clock = clock
        self._callers: dict[str, ActivityCaller] = {}
        self._use_run(f"{journey.name}-{uuid.uuid4().hex[:8]}")
        self.resumed = False
        self._tally = _Tally()
        self._lock = asyncio.Lock()
        waits = {a.event_definition_key for a in journey.activities if a.event_definition_key}
        self._events = EventWatch(store, sorted(waits), options.poll_seconds)

    async def contacts(self) -> list[tuple[str, dict[str, Any]]]:
        """The entry data extension's rows with each one's contact key."""
        entry = self.journey.entry
        extension = await self._store.extension(f"key:{entry.data_extension}")
        if extension is None:
            raise JourneyProblem(f"entry: no data extension keyed {entry.data_extension}")
        names = [each["name"] for each in extension["fields"]]
        key_field = entry.contact_key or next(
            (each["name"] for each in extension["fields"] if each["isPrimaryKey"]), ""
        )
        if key_field not in names:
            raise JourneyProblem(
                f"entry: contact_key field {key_field or '(none)'} is not a field of "
                f"{entry.data_extension}"
            )
        rows = await self._store.rows(extension["id"])
        self._entry_names = (extension["name"], extension["key"])
        return [(str(row.get(key_field) or ""), row) for row in rows if row.get(key_field)]

    def _use_run(self, run_id: str) -> None:
        self.run_id = run_id
        self.journey_id = str(uuid.uuid5(NAMESPACE, run_id))

    async def _standings(self) -> dict[str, Standing]:
        """A killed run of this journey to continue: where each contact stands in it."""
        previous = await self._journeys.unfinished(self.journey.name)
        if not self.options.resume or previous is None:
            return {}
        self._use_run(previous)
        self.resumed = True
        recorded = await self._journeys.steps_by_contact(previous)
        states = {contact: standing(self.journey, steps) for contact, steps in recorded.items()}
        paths, ejected, through = recorded_tally(list(states.values()))
        self._tally.paths.update(paths)
        self._tally.ejected.update(ejected)
        self._tally.done = through
        for state in states.values():
            for key, label in state.branches:
                self._tally.branches.setdefault(key, Counter())[label] += 1
        return states

    async def run(self) -> dict[str, Any]:
        """Run to the end: every contact exited or was ejected. Returns the summary."""
        contacts = await self.contacts()
        states = await self._standings()
        for activity in self.journey.activities:
            if activity.type == "custom":
                caller = await ActivityCaller.load(
                    activity, self._http, self.options.jwt_secret, self._client_for
                )
                self._callers[activity.key] = caller
        for key, caller in self._callers.items():
            await caller.lifecycle(
                {
                    "activityObjectID": self._activity_id(key),
                    "interactionId": self.journey_id,
                    "originalDefinitionId": self.journey_id,
                    "interactionKey": self.journey.name,
                    "interactionVersion": "1",
                }
            )
        started = self._clock()
        if self.resumed:
            self._progress(
                f"{self.run_id}: resumed, {self._tally.done} of {len(contacts)} contacts "
                "were through"
            )
        else:
            await self._journeys.start_run(self.run_id, self.journey.name, started)
            self._progress(f"{self.run_id}: {len(contacts)} contacts enter {self.journey.name}")
        await self._events.start()
        watcher = asyncio.create_task(self._events.watch())
        flusher = asyncio.create_task(self._flush_often())
        try:
            await self._enter(contacts, states)
        finally:
            watcher.cancel()
            flusher.cancel()
        summary = self._summary(len(contacts), self._clock() - started)
        summary["resumed"] = self.resumed
        await self._journeys.finish_run(self.run_id, self._clock(), summary)
        return summary

    async def _enter(
        self, contacts: list[tuple[str, dict[str, Any]]], states: dict[str, Standing]
    ) -> None:
        """Contacts enter as others leave, at most ``max_in_flight`` inside at once (a task
        each while inside, none for those waiting to enter)."""
        slots = asyncio.Semaphore(self.options.max_in_flight)
        inside: set[asyncio.Task[None]] = set()
        failed: list[BaseException] = []

        def left(task: asyncio.Task[None]) -> None:
            inside.discard(task)
            slots.release()
            if not task.cancelled() and task.exception() is not None:
                failed.append(task.exception())  # type: ignore[arg-type]

        try:
            for contact, row in contacts:
                state = states.get(contact)
                if state is not None and state.through:
                    continue
                await slots.acquire()
                if failed:
                    break
                task = asyncio.create_task(self._walk(contact, row, state))
                inside.add(task)
                task.add_done_callback(left)
            while inside:
                await asyncio.wait(set(inside))
        finally:
            for task in inside:
                task.cancel()
        if failed:
            raise failed[0]

    def _activity_id(self, key: str) -> str:
        return str(uuid.uuid5(NAMESPACE, f"{self.journey.name}:{key}"))

    async def _walk(self, contact: str, row: dict[str, Any], state: Standing | None) -> None:
        instance = str(uuid.uuid5(NAMESPACE, f"{self.run_id}:{contact}"))
        outputs: dict[str, dict[str, Any]] = dict(state.outputs) if state else {}
        data = ContactData(
            contact_key=contact,
            event_key=self.journey.entry.event_definition_key,
            entry_names=self._entry_names,
            row=row,
            context={
                "ContactKey": contact,
                "DefinitionId": self.journey_id,
                "DefinitionInstanceId": instance,
                "VersionNumber": "1",
                "ExecutionMode": "Production",
                "StartActivityKey": self.journey.first.key,
            },
            outputs=outputs,
        )
        path: list[str] = list(state.path) if state else []
        seq = state.seq if state else 0
        key: str | None = state.next if state else self.journey.first.key
        since = state.since if state else None  # a resumed Wait counts from the step before
        while key is not None:
            activity = self.journey.activity(key)
            seq += 1
            step, key = await self._step(activity, data, instance, seq, since)
            since = None
            await self._record(step)
            path.append(f"{activity.key}[{step.branch}]" if step.branch else activity.key)
            if step.status == "ejected":
                async with self._lock:
                    self._tally.ejected[activity.key] += 1
                break
            if activity.type == "custom":
                outputs[activity.key] = step.out or {}
                seq = await self._maybe_retry(activity, data, instance, seq, step)
        async with self._lock:
            self._tally.paths[" > ".join(path)] += 1
            self._tally.done += 1
            if self._tally.done % 500 == 0:
                self._progress(f"{self.run_id}: {self._tally.done} contacts done")

    async def _step(
        self, activity: Activity, data: ContactData, instance: str, seq: int, since: float | None
    ) -> tuple[Step, str | None]:
        at = self._clock()
        contact = data.contact_key
        if since is not None and activity.type in ("wait", "wait_until_event"):
            at = since  # resumed: the wait began before the runner was killed
        if activity.type == "wait":
            await asyncio.sleep(max(0.0, at + activity.seconds - self._clock()))
            return Step(contact, seq, activity.key, at, "waited"), activity.next
        if activity.type == "wait_until_event":
            came = await self._events.wait(
                activity.event_definition_key,
                contact,
                at,
                max(0.0, at + activity.seconds - self._clock()),
            )
            status = "event" if came else "timed_out"
            return Step(contact, seq, activity.key, at, status), (
                activity.next if came else activity.timeout_next
            )
        if activity.type == "decision_split":
            branch = route(activity.branches, data)
            await self._count_branch(activity.key, branch.label)
            return Step(contact, seq, activity.key, at, "routed", branch=branch.label), branch.next
        caller = self._callers[activity.key]
        result = await caller.execute(self._body(activity, data, instance))
        async with self._lock:
            self._tally.execute_ms.setdefault(activity.key, []).append(result.ms)
        out = result.out if result.ok else {"error": result.error, "tries": result.tries}
        if not result.ok:
            ejected = Step(
                contact, seq, activity.key, at, "ejected", result.code, out, ms=result.ms
            )
            return ejected, None
        nxt = activity.next
        outcome: str | None = None
        if caller.policy.decision:
            outcome = str(result.out.get("branchResult") or "")
            await self._count_branch(activity.key, outcome)
            nxt = activity.outcomes.get(outcome) if activity.outcomes else activity.next
        done = Step(contact, seq, activity.key, at, "ok", result.code, out, outcome, result.ms)
        return done, nxt

    def _body(self, activity: Activity, data: ContactData, instance: str) -> dict[str, Any]:
        policy = self._callers[activity.key].policy
        mine = {name for each in activity.in_arguments for name in each}
        kept = tuple(each for each in policy.in_arguments if not set(each) & mine)
        activity_id = self._activity_id(activity.key)
        bound = dataclasses.replace(data, activity_id=activity_id)
        return {
            "inArguments": resolve_arguments((*kept, *activity.in_arguments), bound),
            "outArguments": list(policy.out_arguments),
            "activityObjectID": activity_id,
            "journeyId": self.journey_id,
            "activityId": activity_id,
            "definitionInstanceId": instance,
            # one per contact and activity: a retry (real or injected) repeats it
            "activityInstanceId": str(uuid.uuid5(NAMESPACE, f"{instance}:{activity.key}")),
            "keyValue": data.contact_key,
            "mode": 0,
        }

    async def _maybe_retry(
        self, activity: Activity, data: ContactData, instance: str, seq: int, first: Step
    ) -> int:
        rate = self.options.inject_retry_rate
        if rate <= 0 or not _chosen(f"{self.options.seed}:{data.contact_key}:{activity.key}", rate):
            return seq
        caller = self._callers[activity.key]
        again = await caller.execute(self._body(activity, data, instance))
        seq += 1
        await self._record(
            Step(data.contact_key, seq, activity.key, self._clock(), "retry", again.code, again.out)
        )
        async with self._lock:
            self._tally.retries += 1
            self._tally.retry_differs[activity.key] += again.out != (first.out or {})
        return seq

    async def _flush_often(self) -> None:
        """Steps reach the store within a second, so pages and ``show`` see the run move."""
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            async with self._lock:
                await self._journeys.flush()

    async def _count_branch(self, key: str, label: str) -> None:
        async with self._lock:
            self._tally.branches.setdefault(key, Counter())[label] += 1

    async def _record(self, step: Step) -> None:
        async with self._lock:
            await self._journeys.record(self.run_id, step)

    def _summary(self, contacts: int, seconds: float) -> dict[str, Any]:
        tally = self._tally
        timings = {}
        for key, values in tally.execute_ms.items():
            ordered = sorted(values)
            timings[key] = {
                "calls": len(ordered),
                "p50_ms": ordered[len(ordered) // 2],
                "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
                "max_ms": ordered[-1],
            }
        return {
            "journey": self.journey.name,
            "run": self.run_id,
            "contacts": contacts,
            "finished": tally.done,
            "ejected": sum(tally.ejected.values()),
            "ejected_at": dict(tally.ejected),
            "paths": dict(tally.paths.most_common()),
            "branches": {key: dict(counts) for key, counts in tally.branches.items()},
            "retries_injected": tally.retries,
            "retry_answers_differ": dict(tally.retry_differs),
            "seconds": round(seconds, 3),
            "contacts_per_second": round(contacts / seconds, 1) if seconds > 0 else None,
            "execute": timings,
        }


def _chosen(text: str, rate: float) -> bool:
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate
