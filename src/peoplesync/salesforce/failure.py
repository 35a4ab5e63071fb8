"""Salesforce error responses translated into peoplesync's exception tree.

The Salesforce error code is kept on every exception, and record-level errors carry a hint
that tells a person how to fix the record (shown on the status page).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from peoplesync.errors import PeopleSyncError, RecordError, RetryableError, StopError

FIX_HINTS: dict[str, str] = {
    "REQUIRED_FIELD_MISSING": "fill the field in People or map a People attribute to it",
    "STRING_TOO_LONG": "shorten the value in People or map it to a longer Salesforce field",
    "INVALID_EMAIL_ADDRESS": "correct the email address in People",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": (
        "use one of the picklist values defined in Salesforce, or add the value there"
    ),
    "DUPLICATE_VALUE": "another record already has this unique value; merge or change one of them",
    "INVALID_FIELD": "the field does not exist or is not visible to the integration user",
    "INVALID_FIELD_FOR_INSERT_UPDATE": "the field is read-only for the integration user",
    "INVALID_CROSS_REFERENCE_KEY": "the related record does not exist (or was deleted)",
    "ENTITY_IS_DELETED": "the record is in the Salesforce recycle bin; undelete it or unlink it",
    "CANNOT_UPDATE_CONVERTED_LEAD": "the lead was converted; its contact is updated instead",
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": "a validation rule in Salesforce rejected the value",
    "NOT_FOUND": "the record no longer exists in Salesforce",
    "INVALID_TYPE": "the object does not exist or is not visible to the integration user",
    "MALFORMED_ID": "the value is not a Salesforce id",
    "INSUFFICIENT_ACCESS_OR_READONLY": "give the integration user edit access to the record",
}
RETRYABLE_CODES = frozenset(
    {"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "REQUEST_RUNNING_TOO_LONG", "QUERY_TIMEOUT"}
)


class SalesforceError(PeopleSyncError):
    """Base of errors reported by Salesforce; ``error_code`` is Salesforce's own code."""

    error_code: str = ""


class SalesforceUnavailableError(RetryableError, SalesforceError):
    """Salesforce answered 5xx, timed out, or could not lock a row: try again later."""

    def __init__(self, message: str, *, error_code: str = "SERVER_UNAVAILABLE") -> None:
        super().__init__(message, hint="peoplesync retries by itself with backoff")
        self.error_code = error_code


class SessionExpiredError(RetryableError, SalesforceError):
    """The access token is no longer valid; refresh it once and retry."""

    error_code = "INVALID_SESSION_ID"


class ReconnectNeededError(StopError, SalesforceError):
    """The refresh token or credentials were revoked: a person must connect again."""

    error_code = "invalid_grant"

    def __init__(self, message: str) -> None:
        super().__init__(
            message,
            hint="reconnect the integration to Salesforce (peoplesync salesforce connect ...)",
            web_hint="reconnect the integration to Salesforce (Salesforce, then Connect)",
        )


class ApiLimitReachedError(StopError, SalesforceError):
    """The org's daily API allowance (or peoplesync's share of it) is spent."""

    error_code = "REQUEST_LIMIT_EXCEEDED"

    def __init__(self, message: str, *, until: datetime | None = None) -> None:
        super().__init__(message, hint="sync resumes by itself when the allowance returns")
        self.until = until


class SalesforceRequestError(SalesforceError):
    """A request Salesforce rejected as a whole (malformed query, unknown object...)."""

    def __init__(self, message: str, *, error_code: str, fields: Sequence[str] = ()) -> None:
        super().__init__(message, hint=FIX_HINTS.get(error_code, ""))
        self.error_code = error_code
        self.fields = list(fields)


class SalesforceRecordError(RecordError, SalesforceError):
    """Salesforce rejected one record; the rest of the batch goes on."""

    def __init__(
        self, message: str, *, error_code: str, record: str | None, fields: Sequence[str] = ()
    ) -> None:
        super().__init__(
            message,
            record=record,
            field=", ".join(fields) if fields else None,
            hint=FIX_HINTS.get(error_code, "see the Salesforce message"),
        )
        self.error_code = error_code
        self.code = error_code
        self.fields = list(fields)


def _first_error(body: Any) -> Mapping[str, Any]:
    if isinstance(body, list) and body and isinstance(body[0], Mapping):
        return body[0]
    if isinstance(body, Mapping):
        return body
    return {}


def from_response(status: int, body: Any) -> SalesforceError:
    """The exception for an unsuccessful REST response (body already parsed from JSON)."""
    first = _first_error(body)
    code = str(first.get("errorCode") or first.get("error") or f"HTTP_{status}")
    message = str(first.get("message") or first.get("error_description") or f"HTTP {status}")
    if status == 401 or code == "INVALID_SESSION_ID":
        return SessionExpiredError(f"Salesforce session expired: {message}")
    if code == "REQUEST_LIMIT_EXCEEDED":
        return ApiLimitReachedError(f"Salesforce API limit reached: {message}")
    if status >= 500 or code in RETRYABLE_CODES:
        return SalesforceUnavailableError(f"Salesforce is unavailable: {message}", error_code=code)
    return SalesforceRequestError(
        f"Salesforce rejected the request ({code}): {message}",
        error_code=code,
        fields=list(first.get("fields") or []),
    )


def from_save_error(record: str | None, error: Mapping[str, Any]) -> SalesforceError:
    """The exception for one entry of a save result's ``errors`` list (``statusCode`` shape)."""
    code = str(error.get("statusCode") or error.get("errorCode") or "UNKNOWN_EXCEPTION")
    message = str(error.get("message") or code)
    if code in RETRYABLE_CODES:
        return SalesforceUnavailableError(f"record {record}: {message}", error_code=code)
    return SalesforceRecordError(
        message, error_code=code, record=record, fields=list(error.get("fields") or [])
    )
