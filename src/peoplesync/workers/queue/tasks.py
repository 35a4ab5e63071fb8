"""The queue's tasks: an integration's streams, sync passes, push loop and transfers, the
deployment's message sends, a business unit's report write-back, and the periodic jobs (keep
every integration queued, queue every unit's write-back, reconcile polls, stalled-job
recovery, retention of the job log). Each job run is written to the job log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta

from procrastinate import App, JobContext
from procrastinate.exceptions import AlreadyEnqueued, ProcrastinateException, UniqueViolation
from procrastinate.jobs import Status

from peoplesync.clock import Clock
from peoplesync.errors import PeopleSyncError
from peoplesync.observability.log_format import log_context
from peoplesync.settings import Settings
from peoplesync.workers.queue.job_log import JobLog
from peoplesync.workers.queue.passes import Passes, PassOutcome, PassResult
from peoplesync.workers.queue.plan import STEP_OF, JobKind, JobRequest, wanted_jobs

log = logging.getLogger(__name__)
TASK_NAMES = {kind: f"peoplesync.{kind.value}" for kind in JobKind}


@dataclass(frozen=True)
class QueueServices:
    """What the tasks of one worker process use."""

    settings: Settings
    passes: Passes
    job_log: JobLog
    clock: Clock
    worker: str  # who runs the jobs: host and process id
    # Enter to learn whether this process may recover stalled jobs now (one at a time).
    recovery_turn: Callable[[], AbstractAsyncContextManager[bool]]


async def defer(app: App, request: JobRequest) -> int | None:
    """Queue a job unless the same one waits already (None then)."""
    args: dict[str, str] = {"integration": request.integration}
    if request.key:
        args["job_id"] = request.key
    deferrer = app.configure_task(
        TASK_NAMES[request.kind], lock=request.lock, queueing_lock=request.queueing_lock
    )
    try:
        return await deferrer.defer_async(**args)
    except AlreadyEnqueued:
        return None


async def keep_queued(app: App, passes: Passes) -> list[JobRequest]:
    """Queue the jobs every runnable integration wants; returns those newly queued."""
    queued = []
    runnable, interrupted = await passes.runnable(), await passes.interrupted_transfers()
    for request in wanted_jobs(runnable, interrupted, await passes.pushing()):
        if await defer(app, request) is not None:
            queued.append(request)
    return queued


async def queue_reports(app: App, passes: Passes) -> int:
    """Queue one write-back job per business unit unless one waits already (the queueing
    lock); a running one keeps its unit's lock, so the next waits for it. Returns how many
    were queued."""
    requests = [JobRequest(JobKind.REPORTS, unit) for unit in await passes.business_units()]
    return sum([await defer(app, request) is not None for request in requests])


async def recover_stalled(app: App, job_log: JobLog, stalled_after: float) -> list[int]:
    """Run again the jobs of workers whose heartbeat stopped (ended in the job log first,
    so the log never shows the dead run beside the new one); returns their ids. A job whose
    successor already waits in the queue (same queueing lock) is closed as failed instead:
    the successor does its work."""
    manager = app.job_manager
    retried = []
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
        if job.id is None:
            continue
        await job_log.stalled(job.id)
        try:
            try:
                await manager.retry_job(job)
            except UniqueViolation:  # its successor waits already
                await manager.finish_job_by_id_async(job.id, Status.FAILED, delete_job=False)
        except ProcrastinateException as error:  # no longer running: nothing to recover
            log.info("stalled job %s not retried: %s", job.id, error)
            continue
        retried.append(job.id)
    return retried


def register_tasks(app: App, services: QueueServices) -> None:
    """Add peoplesync's tasks and periodic jobs to ``app``."""
    settings = services.settings
    passes = services.passes

    async def logged(
        context: JobContext, kind: JobKind, integration: str, work: Awaitable[PassResult]
    ) -> PassResult:
        job_id = context.job.id or 0
        run = await services.job_log.started(
            job_id, TASK_NAMES[kind], integration, STEP_OF[kind].value, services.worker
        )
        outcome, detail = "error", ""
        try:
            with log_context(integration=integration, job=str(job_id)):  # on its records
                result = await work
            outcome, detail = result.outcome.value, result.detail
            return result
        except PeopleSyncError as error:
            outcome, detail = PassOutcome.FAILED.value, str(error)
            return PassResult(PassOutcome.FAILED, str(error))
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(services.job_log.ended(run, outcome, detail))

    async def held(
        context: JobContext,
        kind: JobKind,
        integration: str,
        run: Callable[[], Awaitable[PassResult]],
    ) -> str:
        result = await logged(context, kind, integration, run())
        if result.outcome is PassOutcome.DONE:  # held its time: hand over to the next holder
            await defer(app, JobRequest(kind, integration))
        return result.outcome.value

    @app.task(name=TASK_NAMES[JobKind.STREAM], pass_context=True)
    async def stream(context: JobContext, integration: str) -> str:
        """Hold the integration's change streams (with reconcile polls) for a while."""
        return await held(
            context,
            JobKind.STREAM,
            integration,
            lambda: passes.inbound(integration, settings.worker_hold),
        )

    @app.task(name=TASK_NAMES[JobKind.PUSH], pass_context=True)
    async def push(context: JobContext, integration: str) -> str:
        """Run the integration's push loop for a while."""
        return await held(
            context,
            JobKind.PUSH,
            integration,
            lambda: passes.push(integration, settings.worker_hold),
        )

    @app.task(name=TASK_NAMES[JobKind.SENDS], pass_context=True)
    async def sends(context: JobContext, integration: str) -> str:
        """Send queued messages for a while (its lock: one sender per deployment)."""
        return await held(
            context, JobKind.SENDS, integration, lambda: passes.sends(settings.worker_hold)
        )

    @app.task(name=TASK_NAMES[JobKind.SYNC], pass_context=True)
    async def sync(context: JobContext, integration: str) -> str:
        """One inbound pass of every enabled step (a reconcile poll, or a manual run)."""
        work = passes.inbound(integration, None)
        return (await logged(context, JobKind.SYNC, integration, work)).outcome.value

    @app.task(name=TASK_NAMES[JobKind.TRANSFER], pass_context=True)
    async def transfer(context: JobContext, integration: str, job_id: str) -> str:
        """Resume an interrupted transfer from its stored position."""
        work = passes.transfer(job_id)
        return (await logged(context, JobKind.TRANSFER, integration, work)).outcome.value

    @app.task(name=TASK_NAMES[JobKind.REPORTS], pass_context=True)
    async def mc_reports(context: JobContext, integration: str) -> str:
        """One report write-back pass of a business unit (``integration``: its name)."""
        work = passes.reports(integration)
        return (await logged(context, JobKind.REPORTS, integration, work)).outcome.value

    @app.periodic(cron=settings.worker_mc_sync_cron, periodic_id="mc_reports")
    @app.task(name="peoplesync.mc_reports_due")
    async def mc_reports_due(timestamp: int) -> int:
        """Queue a write-back pass of every business unit (one waiting per unit)."""
        return await queue_reports(app, passes)

    @app.periodic(cron=settings.worker_keep_cron, periodic_id="keep")
    @app.task(name="peoplesync.keep")
    async def keep(timestamp: int) -> int:
        """Queue the jobs of every runnable integration (and interrupted transfers)."""
        return len(await keep_queued(app, passes))

    @app.periodic(cron=settings.worker_reconcile_cron, periodic_id="reconcile")
    @app.task(name="peoplesync.reconcile")
    async def reconcile(timestamp: int) -> int:
        """Queue a reconcile poll of every runnable integration."""
        runnable = await passes.runnable()
        requests = [JobRequest(JobKind.SYNC, name) for name, ok in runnable.items() if ok]
        return sum([await defer(app, request) is not None for request in requests])

    @app.periodic(cron=settings.worker_recover_cron, periodic_id="recover")
    # No procrastinate lock: a recover job killed while running would hold it for ever.
    @app.task(name="peoplesync.recover")
    async def recover(timestamp: int) -> int:
        """Run again the jobs of dead workers."""
        async with services.recovery_turn() as mine:
            if not mine:
                return 0
            retried = await recover_stalled(app, services.job_log, settings.worker_stalled_after)
        if retried:
            log.warning("ran again %d job(s) of dead workers: %s", len(retried), retried)
        return len(retried)

    @app.periodic(cron="17 3 * * *", periodic_id="retention")
    @app.task(name="peoplesync.retention")
    async def retention(timestamp: int) -> int:
        """Forget job log rows and finished queue jobs older than the retention."""
        days = settings.worker_log_days
        forgotten = await services.job_log.forget_before(
            services.clock.now() - timedelta(days=days)
        )
        await app.job_manager.delete_old_jobs(
            nb_hours=days * 24, include_failed=True, include_cancelled=True, include_aborted=True
        )
        return forgotten
