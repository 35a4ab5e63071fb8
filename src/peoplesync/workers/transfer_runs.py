"""Transfers, resyncs and retries started from the web, run as background tasks of the
process that serves it, through the gated loop.

Each job's progress is written to the People database about once a second (with a heartbeat),
so a reloaded page or another process sees it. A job whose process died shows as
``interrupted``; running it again (by hand, or by :meth:`TransferRuns.watch`) resumes each
step from its stored position, because a transfer's position is kept under a key derived
from its condition.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from peoplesync.errors import ConfigurationError, PeopleSyncError, StopError
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.sync.inbound.report import InboundReport
from peoplesync.sync.inbound.runner import InboundRunner
from peoplesync.sync.integration import require_integration
from peoplesync.sync.outbound.runner import OutboundRunner, OutboundStep
from peoplesync.sync.profile.store import load_profile
from peoplesync.sync.status.recorder import StatusRecorder
from peoplesync.sync.transfer.filter import (
    check_transfer_filter,
    filter_targets,
    lead_status_error,
)
from peoplesync.sync.transfer.jobs import (
    MAX_ERRORS,
    StepProgress,
    TransferJob,
)
from peoplesync.sync.transfer.request import (
    TransferRequest,
    check_steps,
    retry_conditions,
)
from peoplesync.sync.transfer.runner import finish, transfer_condition, transfer_runner
from peoplesync.sync_session import profile_runners
from peoplesync.wiring import Services
from peoplesync.workers.inbound import inbound_pass
from peoplesync.workers.loop import Once, run_gated
from peoplesync.workers.outcome import Failed, Gated

log = logging.getLogger(__name__)
SAVE_EVERY = 1.0  # seconds between progress writes of a running job


class NothingToRetryError(ConfigurationError):
    """A retry was asked while no record of the integration has failed."""

    def __init__(self) -> None:
        super().__init__(
            "no failed records to retry",
            hint="the status page lists errors when there are some",
        )


class JobRunningError(StopError):
    """A transfer of this integration is already running."""

    def __init__(self, job: TransferJob) -> None:
        super().__init__(
            f"a {job.kind} of {job.integration!r} is already running (job {job.id})",
            hint="wait for it to finish; its progress is on the transfer page",
        )
        self.job = job


def _outcome(job: TransferJob) -> str:
    if job.state != "done":
        return "failed"
    return "partial" if job.rejected else "ok"


class TransferRuns:
    """Starts and follows the jobs of one serve process."""

    def __init__(self, services: Services) -> None:
        self.store = services.people
        self.statuses = services.statuses
        self.clock = services.clock
        self.services = services
        self.jobs = services.transfer_jobs()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._starting = asyncio.Lock()

    # --- connecting -----------------------------------------------------------------------

    @asynccontextmanager
    async def _connected(
        self, name: str
    ) -> AsyncIterator[tuple[SalesforceClient, dict[str, InboundRunner], Sequence[OutboundStep]]]:
        """The integration's client, its inbound runners by step and its outbound steps."""
        await require_integration(self.store, name)
        async with self.services.org_client(name) as client:
            profile = await load_profile(self.store, name)
            runners = profile_runners(client, self.store, profile, name)
            yield client, runners, profile.outbound_steps()

    async def _conditions(
        self,
        client: SalesforceClient,
        runners: dict[str, InboundRunner],
        request: TransferRequest,
    ) -> dict[str, str | None]:
        """Each chosen step's condition, checked by Salesforce when the person gave one."""
        chosen = check_steps(request, list(runners))
        conditions: dict[str, str | None] = {
            step: transfer_condition(
                runners[step],
                condition=request.condition,
                modified_within_days=request.modified_within_days,
                lead_statuses=request.lead_statuses,
            )
            for step in chosen
        }
        every = filter_targets(runners)
        picked = [target for target in every if target.step in chosen]
        wrong_status = lead_status_error(request.lead_statuses, picked)
        if wrong_status is not None:
            raise wrong_status
        if request.condition:
            await check_transfer_filter(client, request.condition, picked, every)
        return conditions

    # --- preview ----------------------------------------------------------------------------

    async def preview(
        self, name: str, request: TransferRequest, *, force: bool = False
    ) -> dict[str, Any]:
        """What the transfer would do, by step: counts and samples by outcome; writes nothing."""
        async with self._connected(name) as (client, runners, _outbound):
            conditions = await self._conditions(client, runners, request)
            chosen = {
                step: transfer_runner(runners[step], condition, preview=True, force=force)
                for step, condition in conditions.items()
            }
            summary = await inbound_pass(client, self.store, chosen)
        summary["preview"] = True
        summary["asked"] = request.asked()
        return summary

    # --- starting ---------------------------------------------------------------------------

    async def running(self, name: str) -> TransferJob | None:
        """The integration's live job (not an interrupted one)."""
        now = self.clock.now()
        for job in await self.jobs.unfinished(name):
            if job.id in self._tasks or job.shown_state(now) == "running":
                return job
        return None

    async def start(
        self, name: str, kind: str, request: TransferRequest, started_by: str
    ) -> TransferJob:
        """Check the request, record the job and run it in the background."""
        async with self._starting:
            busy = await self.running(name)
            if busy is not None:
                raise JobRunningError(busy)
            async with self._connected(name) as (client, runners, outbound):
                if kind == "retry":
                    problems = await self.statuses.problems(name)
                    conditions: dict[str, str | None] = {
                        step: transfer_condition(runners[step], condition=condition)
                        for step, condition in retry_conditions(problems, list(runners)).items()
                    }
                    push = bool(outbound) and any(
                        p["record_id"].startswith("person ") for p in problems
                    )
                    if not conditions and not push:
                        raise NothingToRetryError()
                else:
                    conditions = await self._conditions(client, runners, request)
                    push = False
            options = {
                "asked": request.asked(),
                "conditions": conditions,
                "force": kind == "resync",
                "push": push,
            }
            steps = [*conditions, *(["push"] if push else [])]
            job = await self.jobs.create(name, kind, options, steps, started_by)
            await self.statuses.log(
                name, kind, detail=f"job {job.id} started by {started_by}", outcome="started"
            )
            self._launch(job)
            return job

    def _launch(self, job: TransferJob) -> None:
        task = asyncio.create_task(self._run(job), name=f"transfer {job.id}")
        self._tasks[job.id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(job.id, None))

    async def resume(self, job_id: str) -> TransferJob | None:
        """Run an interrupted job again from its stored position (None unless it was
        interrupted and this process took it over)."""
        job = await self.jobs.get(job_id)
        if job is None or job.id in self._tasks:
            return None
        if job.shown_state(self.clock.now()) != "interrupted" or not await self.jobs.claim(job):
            return None
        await self.statuses.log(job.integration, job.kind, detail=f"job {job.id} resumed")
        self._launch(job)
        return job

    async def resume_interrupted(self) -> list[str]:
        """Resume every interrupted job; returns their ids."""
        resumed = []
        for job in await self.jobs.unfinished():
            if await self.resume(job.id) is not None:
                resumed.append(job.id)
        return resumed

    async def watch(self, every: float = 10.0) -> None:
        """Resume interrupted jobs now and whenever one shows up (run by ``serve``)."""
        while True:
            try:
                await self.resume_interrupted()
            except Exception:  # a database hiccup must not end the watch
                log.exception("resuming interrupted transfers failed")
            await asyncio.sleep(every)

    async def wait(self) -> None:
        """Wait until this process's jobs end."""
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def stop(self) -> None:
        """Cancel this process's jobs (they stay running in the database: interrupted)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # --- running ----------------------------------------------------------------------------

    async def _run(self, job: TransferJob) -> None:
        beating = asyncio.create_task(self._beat(job))
        try:
            await self._work(job)
            job.state = "done"
        except asyncio.CancelledError:
            raise  # the process stops: the job stays running and resumes later
        except PeopleSyncError as error:
            job.state, job.message = "failed", str(error)
        except Exception as error:  # a bug must show as a failed job, not a running one
            log.exception("transfer job %s failed", job.id)
            job.state, job.message = "failed", f"internal error ({type(error).__name__})"
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating
        job.finished_at = self.clock.now()
        await self.statuses.log(
            job.integration,
            job.kind,
            records=job.read,
            outcome=_outcome(job),
            detail=f"job {job.id}: read {job.read}, applied {job.applied}, rejected "
            f"{job.rejected}" + (f"; {job.message}" if job.message else ""),
        )
        await self.jobs.save(job)  # last: once a job shows done, its log line is there

    async def _beat(self, job: TransferJob) -> None:
        """Write the job's progress (and so beat its heart) every second while it runs."""
        while True:
            await asyncio.sleep(SAVE_EVERY)
            await self.jobs.save(job)

    async def _work(self, job: TransferJob) -> None:
        name = job.integration
        conditions: dict[str, str | None] = job.options["conditions"]
        force = bool(job.options.get("force"))
        async with self._connected(name) as (client, runners, outbound):
            recorder = StatusRecorder(self.statuses, name, client, self.clock)
            await recorder.install_budget()

            async def steps() -> None:
                chosen = {
                    step: transfer_runner(runners[step], condition, force=force)
                    for step, condition in conditions.items()
                    if step in runners
                }
                for step, runner in chosen.items():
                    if step in job.steps and job.steps[step].done:
                        continue  # finished before the job was interrupted
                    await self._step(job, step, runner, recorder)
                for runner in chosen.values():
                    await finish(runner)
                if job.options.get("push") and outbound:
                    await self._push(job, client, outbound, recorder)

            try:
                outcome = await run_gated(
                    Once(steps), recorder, self.clock, follow=False, interval=0
                )
            finally:
                await recorder.flush()
        if isinstance(outcome, Gated):
            raise outcome.cause or ConfigurationError(
                f"the integration does not run now: {outcome.reason}",
                hint="resume it on the status page, then start again",
            )
        if isinstance(outcome, Failed):
            raise outcome.error

    async def _step(
        self, job: TransferJob, step: str, runner: InboundRunner, recorder: StatusRecorder
    ) -> None:
        progress = job.steps.setdefault(step, StepProgress())
        report = InboundReport()
        base = StepProgress(**progress.json())  # what earlier runs of this job saved

        def heard(done: int, total: int) -> None:
            # The runner counts records read from its committed position (see
            # ``transfer_runner``), so ``done`` already holds what earlier runs read, even
            # the batches committed after this job's last saved progress. The other
            # counters add this run's to the last saved ones.
            progress.read = max(progress.read, done)
            progress.total = max(progress.total, total, progress.read)
            progress.created = base.created + report.created
            progress.updated = base.updated + report.updated
            progress.rejected = base.rejected + len(report.rejected)

        try:
            await recorder.run_step(step, runner, heard, report=report)
        finally:
            heard(progress.read, 0)
            job.errors.extend(
                {"step": step, "record": e.record, "field": e.field, "error": e.detail}
                for e in report.rejected[: max(0, MAX_ERRORS - len(job.errors))]
            )
        progress.done = True
        progress.total = progress.read  # a resumed read's estimate counted its overlap
        await self.jobs.save(job)

    async def _push(
        self,
        job: TransferJob,
        client: SalesforceClient,
        outbound: Sequence[OutboundStep],
        recorder: StatusRecorder,
    ) -> None:
        progress = job.steps.setdefault("push", StepProgress())
        runner = OutboundRunner(
            client, self.store, outbound, self.clock, integration=job.integration
        )
        report = await recorder.run_push(runner, retry_failed=True)
        progress.read = progress.total = report.persons
        progress.created, progress.updated = report.created, report.updated
        progress.rejected = len(report.errors)
        progress.done = True
        job.errors.extend(
            {"step": "push", "record": e.record, "field": None, "error": str(e)}
            for e in report.errors[: max(0, MAX_ERRORS - len(job.errors))]
        )
        await self.jobs.save(job)

    async def delete_integration(self, name: str, by: str) -> int:
        """Delete the integration (see ``salesforce delete``) and its jobs; refused while a
        job runs. Returns how many links went."""
        await require_integration(self.store, name)
        async with self._starting:
            busy = await self.running(name)
            if busy is not None:
                raise JobRunningError(busy)
            links = await self.statuses.delete_integration(name, f"salesforce:{name}")
            await self.jobs.forget(name)
        await self.statuses.log(
            name, "delete", records=links, detail=f"deleted by {by}; {links} link(s) removed"
        )
        return links


__all__ = ["JobRunningError", "NothingToRetryError", "TransferRuns"]
