"""Salesforce error bodies become exceptions that say what to do."""

from __future__ import annotations

import pytest

from peoplesync.errors import RecordError, RetryableError, StopError
from peoplesync.salesforce.failure import (
    ApiLimitReachedError,
    ReconnectNeededError,
    SalesforceRecordError,
    SalesforceRequestError,
    SalesforceUnavailableError,
    SessionExpiredError,
    from_response,
    from_save_error,
)


def test_session_expiry_is_retryable_once_refreshed() -> None:
    error = from_response(
        401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    )
    assert isinstance(error, SessionExpiredError)
    assert isinstance(error, RetryableError)


def test_limit_stops_the_integration() -> None:
    error = from_response(
        403, [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    )
    assert isinstance(error, ApiLimitReachedError)
    assert isinstance(error, StopError)
    assert "resumes by itself" in str(error)


@pytest.mark.parametrize(
    ("status", "code"),
    [(503, "SERVER_UNAVAILABLE"), (500, "UNKNOWN_EXCEPTION"), (400, "UNABLE_TO_LOCK_ROW")],
)
def test_transient_failures_are_retryable(status: int, code: str) -> None:
    error = from_response(status, [{"message": "busy", "errorCode": code}])
    assert isinstance(error, SalesforceUnavailableError)
    assert error.error_code == code


def test_malformed_query_keeps_code_and_fields() -> None:
    error = from_response(
        400, [{"message": "No such column 'Foo'", "errorCode": "INVALID_FIELD", "fields": ["Foo"]}]
    )
    assert isinstance(error, SalesforceRequestError)
    assert error.error_code == "INVALID_FIELD"
    assert error.fields == ["Foo"]
    assert "not visible to the integration user" in str(error)


def test_record_errors_name_record_field_and_fix() -> None:
    error = from_save_error(
        "00Q8d000000001AAA",
        {
            "statusCode": "REQUIRED_FIELD_MISSING",
            "message": "Required fields are missing: [Company]",
            "fields": ["Company"],
        },
    )
    assert isinstance(error, SalesforceRecordError)
    assert isinstance(error, RecordError)
    assert error.record == "00Q8d000000001AAA"
    assert error.field == "Company"
    assert error.code == "REQUIRED_FIELD_MISSING"
    assert "map a People attribute" in str(error)
    lock = from_save_error("x", {"statusCode": "UNABLE_TO_LOCK_ROW", "message": "locked"})
    assert isinstance(lock, SalesforceUnavailableError)


def test_a_revoked_connection_names_a_command_that_exists_and_the_web_page() -> None:
    error = ReconnectNeededError("the refresh token was revoked")
    assert "peoplesync salesforce connect" in error.hint  # there is no `peoplesync connect`
    assert "peoplesync" not in error.hint_on_web and "Connect" in error.hint_on_web
