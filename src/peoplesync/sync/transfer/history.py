"""Transfers that run outside a transfer job, kept in the transfer history as they end: the
first pass of a step (the initial transfer of ``sync run``, ``serve`` and the demo) and
``sync transfer``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from peoplesync.people.model import new_id
from peoplesync.sync.inbound.report import InboundReport
from peoplesync.sync.transfer.jobs import MAX_ERRORS, StepProgress, TransferJob, TransferJobStore


def finished_job(
    integration: str,
    kind: str,
    started_by: str,
    started_at: datetime,
    reports: Mapping[str, InboundReport],
    *,
    done: set[str],
    now: datetime,
    error: str = "",
) -> TransferJob:
    """The history entry of a transfer whose steps did what ``reports`` say (``done``: the
    steps that read to the end); ``error`` is why it stopped, if it did."""
    steps = {
        name: StepProgress(
            read=report.read,
            total=report.read,
            created=report.created,
            updated=report.updated,
            rejected=len(report.rejected),
            done=name in done,
        )
        for name, report in reports.items()
    }
    errors = [
        {"step": name, "record": e.record, "field": e.field, "error": e.detail}
        for name, report in reports.items()
        for e in report.rejected
    ][:MAX_ERRORS]
    return TransferJob(
        id=new_id(),
        integration=integration,
        kind=kind,
        state="failed" if error else "done",
        options={"asked": {}, "conditions": {name: None for name in reports}},
        steps=steps,
        errors=errors,
        message=error,
        started_by=started_by,
        started_at=started_at,
        heartbeat_at=now,
        finished_at=now,
    )


async def keep_in_history(jobs: TransferJobStore, job: TransferJob) -> None:
    """Add an ended transfer to the history (nothing when no step read a record)."""
    if any(step.read for step in job.steps.values()) or job.state == "failed":
        await jobs.add_finished(job)


__all__ = ["finished_job", "keep_in_history"]
