"""Pure decisions of the job queue: job kinds, their locks, which jobs an integration
wants queued, and whether the job log shows two runs of one step at the same time."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class JobKind(StrEnum):
    """What a queue job does for its integration."""

    STREAM = "stream"  # hold the CDC streams (and reconcile polls) for a while
    SYNC = "sync"  # one inbound pass of every enabled step
    PUSH = "push"  # the push loop for a while (or one pass)
    TRANSFER = "transfer"  # resume an interrupted transfer from its stored position
    SENDS = "sends"  # the deployment's message-send loop for a while
    REPORTS = "mc_reports"  # one report write-back pass of a Marketing Cloud business unit


class Step(StrEnum):
    """The steps that never run in two workers at once (per integration)."""

    INBOUND = "inbound"  # passes, streams and transfers write the same cursors
    PUSH = "push"
    SENDS = "sends"  # one sender per deployment keeps speed-limit spacing exact
    REPORTS = "mc_reports"  # one write-back pass per business unit (its lease guards too)


STEP_OF: Mapping[JobKind, Step] = {
    JobKind.STREAM: Step.INBOUND,
    JobKind.SYNC: Step.INBOUND,
    JobKind.TRANSFER: Step.INBOUND,
    JobKind.PUSH: Step.PUSH,
    JobKind.SENDS: Step.SENDS,
    JobKind.REPORTS: Step.REPORTS,
}
# The send loop belongs to no integration: its jobs name the deployment's messaging instead.
MESSAGING = "messaging"


def lock_of(integration: str, kind: JobKind) -> str:
    """The procrastinate lock: at most one running job per integration and step."""
    return f"{integration}:{STEP_OF[kind].value}"


def queueing_lock_of(integration: str, kind: JobKind, key: str = "") -> str:
    """The procrastinate queueing lock: at most one waiting job per integration and kind
    (and ``key``, a transfer's id)."""
    return f"{integration}:{kind.value}" + (f":{key}" if key else "")


@dataclass(frozen=True)
class JobRequest:
    """A job to queue: its kind, integration and arguments."""

    kind: JobKind
    integration: str
    key: str = ""  # a transfer's job id

    @property
    def lock(self) -> str:
        return lock_of(self.integration, self.kind)

    @property
    def queueing_lock(self) -> str:
        return queueing_lock_of(self.integration, self.kind, self.key)


def wanted_jobs(
    runnable: Mapping[str, bool], interrupted: Mapping[str, str], pushing: Collection[str]
) -> list[JobRequest]:
    """The jobs to keep queued: the message-send loop always; every integration the status
    gate lets run holds its streams, and its push loop when it is ``pushing`` (has enabled
    outbound steps: without them a push job finds nothing to do, and would only be queued
    again at every round); every interrupted transfer (id -> integration) resumes."""
    wanted = [JobRequest(JobKind.SENDS, MESSAGING)]
    wanted += [
        JobRequest(kind, name)
        for name, allowed in sorted(runnable.items())
        if allowed
        for kind in (JobKind.STREAM, JobKind.PUSH)
        if kind is JobKind.STREAM or name in pushing
    ]
    wanted += [
        JobRequest(JobKind.TRANSFER, name, job_id)
        for job_id, name in sorted(interrupted.items())
        if runnable.get(name)
    ]
    return wanted


@dataclass(frozen=True)
class JobRun:
    """One run of a job as the job log has it (``ended`` None: still running)."""

    job_id: int
    task: str
    integration: str
    step: str
    worker: str
    started: datetime
    ended: datetime | None
    outcome: str = ""


def overlaps(runs: Iterable[JobRun], now: datetime) -> list[tuple[JobRun, JobRun]]:
    """Pairs of runs of one integration's step whose times overlap (a run without an end
    lasts until ``now``). Empty when no step ever ran in two places at once."""
    by_step: dict[tuple[str, str], list[JobRun]] = {}
    for run in runs:
        by_step.setdefault((run.integration, run.step), []).append(run)
    found: list[tuple[JobRun, JobRun]] = []
    for group in by_step.values():
        group.sort(key=lambda r: r.started)
        latest: JobRun | None = None  # the run ending last so far
        for run in group:
            if latest is not None and run.started < (latest.ended or now):
                found.append((latest, run))
            if latest is None or (run.ended or now) > (latest.ended or now):
                latest = run
    return found
