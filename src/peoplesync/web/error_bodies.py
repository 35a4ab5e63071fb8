"""The project's exception tree as HTTP answers: a status and {"error": {code, message, field,
hint}}. Bad input is a 4xx naming the field, never a 500."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from peoplesync.errors import (
    AmbiguousMatchError,
    AttributeExistsError,
    BatchValidationError,
    ConfirmationRequiredError,
    DuplicateEmailError,
    NotFoundError,
    PeopleSyncError,
    RecordError,
    RetryableError,
    SettingError,
    SettingTakenError,
    StopError,
)
from peoplesync.messaging.inbound_numbers import InboundNumberError

_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "INVALID_REQUEST",
    429: "TOO_MANY_REQUESTS",
}


@dataclass(frozen=True)
class ErrorBody:
    """What went wrong, for a person or a program."""

    status: int
    code: str
    message: str
    field: str | None = None
    hint: str = ""

    def json(self) -> dict[str, Any]:
        """The response body."""
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "field": self.field,
                "hint": self.hint,
            }
        }


def record_status(error: RecordError) -> int:
    """404 for a missing record, 409 when it clashes with another, 422 otherwise."""
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(
        error,
        DuplicateEmailError
        | AmbiguousMatchError
        | AttributeExistsError
        | ConfirmationRequiredError
        | InboundNumberError,
    ):
        return 409
    return 422


def from_error(error: PeopleSyncError) -> ErrorBody:
    """The answer for one of our own errors: skip-record errors are the caller's input (4xx),
    stop errors a conflict with the current state (409), retryable ones 503."""
    if isinstance(error, BatchValidationError) and error.errors:
        return from_error(error.errors[0])
    if isinstance(error, RecordError):
        return ErrorBody(
            record_status(error), error.code, error.detail, error.field, error.hint_on_web
        )
    if isinstance(error, SettingTakenError):  # a clash with a stored record
        return ErrorBody(409, "CONFLICT", error.message, error.field, error.hint_on_web)
    if isinstance(error, SettingError):  # a setting entered wrong: the caller's input
        return ErrorBody(422, "INVALID_SETTING", error.message, error.field, error.hint_on_web)
    if isinstance(error, RetryableError):
        return ErrorBody(
            503, "TRY_AGAIN", error.message, hint=error.hint_on_web or "try again shortly"
        )
    if isinstance(error, StopError):
        return ErrorBody(409, "CONFLICT", error.message, hint=error.hint_on_web)
    return ErrorBody(400, "BAD_REQUEST", error.message, hint=error.hint_on_web)


_UNREADABLE_BODY = "There was an error parsing the body"  # FastAPI's words (not UTF-8...)


def from_http(error: HTTPException) -> ErrorBody:
    """The answer for a routing or authorization failure."""
    if error.status_code == 400 and error.detail == _UNREADABLE_BODY:
        return ErrorBody(
            400, "INVALID_JSON", "the request body is not valid JSON", "body", "send UTF-8 JSON"
        )
    code = _HTTP_CODES.get(
        error.status_code, "ERROR" if error.status_code >= 500 else "BAD_REQUEST"
    )
    return ErrorBody(error.status_code, code, str(error.detail))


def body_fields(request: Request) -> tuple[str, ...]:
    """The fields the matched route's JSON body takes (by their JSON names), if it has one."""
    body = getattr(request.scope.get("route"), "body_field", None)
    model = getattr(getattr(body, "field_info", None), "annotation", None)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return ()
    return tuple(info.alias or name for name, info in model.model_fields.items())


def from_validation(error: RequestValidationError, accepted: Sequence[str] = ()) -> ErrorBody:
    """The answer for a request body or parameter that does not fit the schema (422); a body
    field the request does not take is named, with the ``accepted`` ones as the hint."""
    problems = list(error.errors())
    if not problems:
        return ErrorBody(422, "INVALID_REQUEST", "the request is not valid")
    first = problems[0]
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    field = ".".join(location) or None
    if first.get("type") == "json_invalid":
        return ErrorBody(
            422, "INVALID_JSON", "the request body is not valid JSON", "body", "send JSON"
        )
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    if not location and first.get("type") in ("model_attributes_type", "dict_type"):
        return ErrorBody(
            422,
            "INVALID_REQUEST",
            "the request body is not a JSON object",
            "body",
            "send a JSON object with the header Content-Type: application/json",
        )
    if first.get("type") == "extra_forbidden":
        schema = "/api/v1/openapi.json"
        listed = accepted and len(location) == 1  # a nested field's siblings are not these
        hint = f"use {', '.join(accepted)} (see {schema})" if listed else f"see {schema}"
        message = f"this request has no field {field!r}{more}"
        return ErrorBody(422, "INVALID_REQUEST", message, field, hint)
    return ErrorBody(422, "INVALID_REQUEST", f"{first.get('msg', 'invalid')}{more}", field)


__all__ = [
    "ErrorBody",
    "body_fields",
    "from_error",
    "from_http",
    "from_validation",
    "record_status",
]
