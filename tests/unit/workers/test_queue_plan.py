"""The queue's pure decisions: locks, wanted jobs, overlap detection in the job log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from peoplesync.workers.queue.plan import (
    MESSAGING,
    JobKind,
    JobRequest,
    JobRun,
    lock_of,
    overlaps,
    queueing_lock_of,
    wanted_jobs,
)

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def run(job: int, integration: str, step: str, start: float, end: float | None) -> JobRun:
    ended = None if end is None else T0 + timedelta(seconds=end)
    return JobRun(job, "t", integration, step, f"w{job}", T0 + timedelta(seconds=start), ended)


def test_inbound_jobs_share_one_lock_per_integration_and_pushes_another() -> None:
    inbound = {lock_of("a", kind) for kind in (JobKind.STREAM, JobKind.SYNC, JobKind.TRANSFER)}
    assert inbound == {"a:inbound"}
    assert lock_of("a", JobKind.PUSH) == "a:push"
    assert lock_of("b", JobKind.STREAM) != lock_of("a", JobKind.STREAM)
    assert lock_of(MESSAGING, JobKind.SENDS) == "messaging:sends"  # one per deployment


def test_queueing_locks_keep_one_waiting_job_per_kind_and_transfer() -> None:
    assert queueing_lock_of("a", JobKind.STREAM) != queueing_lock_of("a", JobKind.SYNC)
    assert queueing_lock_of("a", JobKind.TRANSFER, "j1") != queueing_lock_of(
        "a", JobKind.TRANSFER, "j2"
    )


def test_runnable_integrations_hold_streams_and_pushes_and_resume_their_transfers() -> None:
    wanted = wanted_jobs({"a": True, "b": False}, {"j1": "a", "j2": "b"}, {"a", "b"})
    assert wanted == [
        JobRequest(JobKind.SENDS, MESSAGING),
        JobRequest(JobKind.STREAM, "a"),
        JobRequest(JobKind.PUSH, "a"),
        JobRequest(JobKind.TRANSFER, "a", "j1"),
    ]


def test_an_integration_without_outbound_steps_holds_no_push_loop() -> None:
    # Its push job would only find nothing to do, and be queued again for ever.
    wanted = wanted_jobs({"a": True, "b": True}, {}, {"b"})
    assert wanted == [
        JobRequest(JobKind.SENDS, MESSAGING),
        JobRequest(JobKind.STREAM, "a"),
        JobRequest(JobKind.STREAM, "b"),
        JobRequest(JobKind.PUSH, "b"),
    ]


def test_runs_one_after_another_do_not_overlap() -> None:
    runs = [run(1, "a", "inbound", 0, 5), run(2, "a", "inbound", 5, 9), run(3, "a", "push", 1, 4)]
    assert overlaps(runs, T0 + timedelta(seconds=60)) == []


def test_two_runs_of_one_step_at_once_are_found() -> None:
    first, second = run(1, "a", "inbound", 0, 5), run(2, "a", "inbound", 4, 9)
    assert overlaps([second, first], T0 + timedelta(seconds=60)) == [(first, second)]


def test_a_run_without_an_end_lasts_until_now() -> None:
    open_run, later = run(1, "a", "inbound", 0, None), run(2, "a", "inbound", 30, 31)
    assert overlaps([open_run, later], T0 + timedelta(seconds=60)) == [(open_run, later)]
    assert overlaps([open_run], T0 + timedelta(seconds=60)) == []


def test_a_long_run_overlapping_a_later_one_past_a_short_one_is_found() -> None:
    long, short, late = (
        run(1, "a", "inbound", 0, 10),
        run(2, "a", "inbound", 1, 2),
        run(3, "a", "inbound", 5, 6),
    )
    found = overlaps([long, short, late], T0 + timedelta(seconds=60))
    assert (long, late) in found and (long, short) in found


def test_other_integrations_and_steps_may_run_at_the_same_time() -> None:
    runs = [run(1, "a", "inbound", 0, 5), run(2, "b", "inbound", 0, 5), run(3, "a", "push", 0, 5)]
    assert overlaps(runs, T0 + timedelta(seconds=60)) == []
