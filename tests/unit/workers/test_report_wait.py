"""The pure decisions of report write-back's loop: when the next pass runs, what is said."""

from __future__ import annotations

from peoplesync.errors import RecordError
from peoplesync.marketing_cloud.api_errors import MarketingCloudUnavailableError
from peoplesync.marketing_cloud.report_sync import SyncOutcome
from peoplesync.workers.outcome import Failed, Finished, Idle
from peoplesync.workers.report_sync import next_wait, summary


def test_a_pass_or_nothing_to_do_waits_the_interval_and_clears_failures() -> None:
    assert next_wait(Finished(SyncOutcome()), 30.0, 3, 300.0) == (30.0, 0)
    assert next_wait(Idle("another process holds it"), 30.0, 2, 300.0) == (30.0, 0)


def test_failures_in_a_row_wait_longer_up_to_the_cap_and_at_least_retry_in() -> None:
    failed = Failed(MarketingCloudUnavailableError("HTTP 500"))
    assert next_wait(failed, 30.0, 0, 300.0) == (30.0, 1)
    assert next_wait(failed, 30.0, 1, 300.0) == (60.0, 2)
    assert next_wait(failed, 30.0, 9, 300.0) == (300.0, 10)
    assert next_wait(Failed(failed.error, retry_in=120.0), 30.0, 0, 300.0) == (120.0, 1)


def test_summary_names_the_kinds_written_and_the_refused_rows() -> None:
    outcome = SyncOutcome(written={"sms": 3, "omni": 0, "clicks": 1, "inbound": 0}, events=2)
    outcome.errors.append(RecordError("too long", record="m1", field="text"))
    assert summary("acme", Finished(outcome)) == (
        "acme: wrote 4 report row(s) to Marketing Cloud (sms 3, clicks 1), fired 2 event(s), "
        "1 refused"
    )
    assert summary("acme", Finished(SyncOutcome())) is None
    assert summary("acme", Idle("gone")) is None
    said = summary("acme", Failed(MarketingCloudUnavailableError("HTTP 500")))
    assert said == "acme: report write-back failed: HTTP 500"
    assert (
        summary("acme", Failed(RuntimeError("x"))) == "acme: report write-back failed: RuntimeError"
    )
