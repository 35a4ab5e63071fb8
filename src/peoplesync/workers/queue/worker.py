"""One ``peoplesync worker`` process: procrastinate's worker on the PostgreSQL queue, with
peoplesync's tasks, until a signal stops it."""

from __future__ import annotations

import logging
import os
import socket

from peoplesync.clock import SystemClock
from peoplesync.settings import Settings
from peoplesync.wiring import services
from peoplesync.workers.queue.app import (
    apply_queue_schema,
    postgres_queue_app,
    queue_conninfo,
    recovery_turn,
)
from peoplesync.workers.queue.job_log import JobLog
from peoplesync.workers.queue.passes import EnginePasses
from peoplesync.workers.queue.tasks import QueueServices, keep_queued, register_tasks

log = logging.getLogger(__name__)
SHUTDOWN_GRACE = 10.0  # seconds running jobs get to end on SIGTERM before being cancelled
FETCH_EVERY = 1.0  # seconds between looks for jobs a lock held back (no NOTIFY frees them)


def worker_name() -> str:
    """This process, as the job log names it."""
    return f"{socket.gethostname()}:{os.getpid()}"


async def run_worker(settings: Settings, concurrency: int) -> None:
    """Work the queue until stopped: apply the queue schema if missing, queue what every
    integration needs, then run jobs (``concurrency`` at once)."""
    queue_conninfo(settings)  # PostgreSQL or a clear error, before touching anything
    clock = SystemClock()
    async with services(settings, clock=clock) as wired:
        if await apply_queue_schema(settings):
            log.info("created the job queue's tables")
        app = postgres_queue_app(settings)
        passes = EnginePasses(wired)
        queue = QueueServices(
            settings,
            passes,
            JobLog(wired.engine, clock),
            clock,
            worker_name(),
            lambda: recovery_turn(settings),
        )
        register_tasks(app, queue)
        async with app.open_async():
            await keep_queued(app, passes)
            await app.run_worker_async(
                name=queue.worker,
                concurrency=concurrency,
                update_heartbeat_interval=settings.worker_heartbeat,
                stalled_worker_timeout=settings.worker_stalled_after,
                shutdown_graceful_timeout=SHUTDOWN_GRACE,
                fetch_job_polling_interval=FETCH_EVERY,
                install_signal_handlers=True,
            )
