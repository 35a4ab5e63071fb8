"""Error bodies as Marketing Cloud writes them: REST (``errorcode``), async and OAuth."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.responses import JSONResponse

GENERIC = 10000
INVALID_TYPE = 10001
MISSING_REQUIRED = 10002
INVALID_FORMAT = 10003
INVALID_MESSAGE = 10004
INVALID_VALUE = 10005
AGGREGATE = 10006


def rest_error(
    status: int,
    message: str,
    errorcode: int = GENERIC,
    additional: Sequence[tuple[str, int]] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """``{"message", "errorcode", "documentation", "additionalErrors"?}``."""
    body: dict[str, Any] = {"message": message, "errorcode": errorcode, "documentation": ""}
    if additional:
        body["additionalErrors"] = [
            {"message": text, "errorcode": code, "documentation": ""} for text, code in additional
        ]
    return JSONResponse(body, status_code=status, headers=headers)


def not_authorized() -> JSONResponse:
    return rest_error(401, "Not Authorized", 0)


def async_error(status: int, request_id: str | None, code: str, message: str) -> JSONResponse:
    """The async API's ``resultMessages`` envelope."""
    return JSONResponse(
        {
            "requestId": request_id,
            "resultMessages": [
                {
                    "resultType": "Validation",
                    "resultClass": "Error",
                    "resultCode": code,
                    "message": message,
                }
            ],
        },
        status_code=status,
    )


def oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": error,
            "error_description": description,
            "error_uri": "https://developer.salesforce.com/docs",
        },
        status_code=status,
    )
