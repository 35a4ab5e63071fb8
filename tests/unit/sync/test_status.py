"""The integration state machine, the API budget and problem grouping: pure, on a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from peoplesync.clock import ManualClock
from peoplesync.errors import InvalidPhoneError, StopError
from peoplesync.salesforce.failure import (
    ApiLimitReachedError,
    ReconnectNeededError,
    SalesforceRecordError,
)
from peoplesync.sync.status.state import (
    BudgetGuard,
    IntegrationStatus,
    State,
    error_problem,
    failed,
    gate,
    group_problems,
    limit_until,
    paused,
    record_id,
    resumed,
    succeeded,
    warning_problem,
)

NOW = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)


def test_active_runs_and_paused_refuses_until_resumed() -> None:
    status = IntegrationStatus()
    assert gate(status, NOW).action == "run"
    stopped = paused(status, NOW)
    decision = gate(stopped, NOW)
    assert decision.action == "refuse"
    assert "resume" in decision.reason
    assert gate(resumed(stopped, NOW), NOW).action == "run"


def test_automatic_transitions_never_leave_a_pause() -> None:
    stopped = paused(IntegrationStatus(), NOW)
    assert succeeded(stopped, NOW).state is State.PAUSED
    assert failed(stopped, ApiLimitReachedError("spent"), NOW).state is State.PAUSED


def test_limit_waits_until_its_time_then_probes() -> None:
    limited = failed(IntegrationStatus(), ApiLimitReachedError("spent"), NOW)
    assert limited.state is State.API_LIMIT_REACHED
    assert limited.until == NOW + timedelta(hours=1)
    assert gate(limited, NOW + timedelta(minutes=59)).action == "wait"
    assert gate(limited, NOW + timedelta(hours=1)).action == "probe"
    assert succeeded(limited, NOW).state is State.ACTIVE


def test_a_limit_with_a_known_end_keeps_it() -> None:
    until = NOW + timedelta(minutes=5)
    limited = failed(IntegrationStatus(), ApiLimitReachedError("spent", until=until), NOW)
    assert limited.until == until


def test_revoked_credentials_refuse_and_other_stops_are_errors() -> None:
    revoked = failed(IntegrationStatus(), ReconnectNeededError("invalid_grant"), NOW)
    assert revoked.state is State.RECONNECT_NEEDED
    assert gate(revoked, NOW).action == "refuse"
    broken = failed(IntegrationStatus(), StopError("bad mapping"), NOW)
    assert broken.state is State.ERROR
    assert gate(broken, NOW).action == "run"  # the next pass tries again


@pytest.mark.parametrize(
    ("used", "spent", "expected"),
    [
        (100, 499, None),  # under the share
        (100, 500, datetime(2026, 3, 1, 11, 30, tzinfo=UTC)),  # share spent: look again in 1 h
        (1000, 0, datetime(2026, 3, 1, 11, 30, tzinfo=UTC)),  # the org ran out
    ],
)
def test_limit_until(used: int, spent: int, expected: datetime | None) -> None:
    got = limit_until(share=0.5, org_used=used, org_max=1000, spent_today=spent, now=NOW)
    assert got == expected


def test_limit_until_ends_at_midnight_when_the_share_is_spent_late() -> None:
    late = datetime(2026, 3, 1, 23, 45, tzinfo=UTC)
    got = limit_until(share=0.5, org_used=0, org_max=1000, spent_today=600, now=late)
    assert got == datetime(2026, 3, 2, tzinfo=UTC)


def test_no_budget_before_the_allowance_is_known() -> None:
    assert limit_until(share=0.1, org_used=None, org_max=None, spent_today=10**6, now=NOW) is None


def test_guard_stops_calls_once_the_share_is_spent_and_counts_afresh_each_day() -> None:
    clock = ManualClock(NOW)
    calls = [0]
    guard = BudgetGuard(
        clock, share=0.01, calls=lambda: calls[0], usage=lambda: (50, 1000), spent_before=7
    )
    guard()  # 7 of 10
    calls[0] = 3
    with pytest.raises(ApiLimitReachedError) as raised:
        guard()
    assert raised.value.until == NOW + timedelta(hours=1)
    with guard.probing():
        guard()  # a read of /limits goes through
    clock.advance(timedelta(days=1))
    assert guard.spent_today() == 0
    guard()


def test_problems_name_the_record_field_and_fix() -> None:
    error = InvalidPhoneError(
        "'x' is not a valid phone number", record="Lead 00Q8d0000000001EAA", field="Phone"
    )
    problem = error_problem(error)
    assert (problem.code, problem.record, problem.field) == (
        "INVALID_PHONE",
        "00Q8d0000000001EAA",
        "Phone",
    )
    assert "international" in problem.hint
    salesforce = SalesforceRecordError(
        "too long", error_code="STRING_TOO_LONG", record="00Q8d0000000002EAA", fields=["City"]
    )
    assert error_problem(salesforce).code == "STRING_TOO_LONG"
    warning = warning_problem("LEAD_CONVERTED", "lead 00Q8d0000000003EAA was converted to ...")
    assert (warning.severity, warning.record) == ("warning", "00Q8d0000000003EAA")
    assert record_id(None) == ""


def test_group_problems_by_code_errors_first() -> None:
    def row(code: str, record: str, severity: str = "error") -> dict[str, object]:
        return {
            "severity": severity,
            "code": code,
            "hint": "fix it",
            "record_id": record,
            "step": "Lead",
            "field": "Phone",
            "message": "bad",
            "count": 1,
            "last_seen": NOW,
        }

    groups = group_problems(
        [
            row("LEAD_CONVERTED", "a", "warning"),
            row("INVALID_EMAIL", "b"),
            row("INVALID_PHONE", "c"),
            row("INVALID_PHONE", "d"),
            row("INVALID_PHONE", "e"),
        ],
        per_code=2,
    )
    assert [g["code"] for g in groups] == ["INVALID_PHONE", "INVALID_EMAIL", "LEAD_CONVERTED"]
    assert groups[0]["records"] == 3
    assert [e["record"] for e in groups[0]["examples"]] == ["c", "d"]
