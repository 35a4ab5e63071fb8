"""The pure decisions of report write-back's loop: when the next pass runs, what is said."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from peoplesync.errors import ConfigurationError, RecordError
from peoplesync.marketing_cloud.api_errors import MarketingCloudUnavailableError
from peoplesync.marketing_cloud.report_sync import SyncOutcome
from peoplesync.marketing_cloud.units import UnitInfo, UnitKeys
from peoplesync.workers.outcome import Failed, Finished, Idle
from peoplesync.workers.report_sync import connect_with, next_wait, summary


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


def _keys(ca_cert: str | None) -> UnitKeys:
    info = UnitInfo(
        "acme",
        "510000042",
        "client",
        "https://mc.test/",
        False,
        False,
        None,
        None,
        "native",
        datetime(2026, 12, 5, tzinfo=UTC),
        ca_cert=ca_cert,
    )
    return UnitKeys(info, "secret", ())


async def test_a_missing_ca_file_is_named_and_a_ca_file_is_loaded_once(tmp_path: Path) -> None:
    connect = connect_with(None)
    with pytest.raises(ConfigurationError) as refused:
        async with connect(_keys(str(tmp_path / "nowhere.pem"))):
            pass
    assert "business unit 'acme': its CA file" in str(refused.value)
    assert "nowhere.pem' cannot be read" in str(refused.value)
    async with connect(_keys(None)) as (_, first), connect(_keys(None)) as (_, second):
        assert first._transport._pool._ssl_context is second._transport._pool._ssl_context
