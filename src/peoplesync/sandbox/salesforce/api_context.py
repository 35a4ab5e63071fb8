"""What every REST handler needs: the services, the current principal and JSON helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from peoplesync.sandbox.salesforce.auth import AuthServer, Principal, SessionError
from peoplesync.sandbox.salesforce.config import SandboxConfig
from peoplesync.sandbox.salesforce.limits import ApiUsage
from peoplesync.sandbox.salesforce.query_cursor import QueryCursors
from peoplesync.sandbox.salesforce.records import RecordService

JSON_TYPE = "application/json;charset=UTF-8"
# Set in the ASGI scope of a Composite or batch subrequest: it is part of its parent's call
# (one call toward the API limits, as Salesforce counts it), so it is neither metered nor
# given faults of its own; it is still logged.
SUBREQUEST = "peoplesync.subrequest"


class ApiError(Exception):
    """An error answered as Salesforce's JSON error list."""

    def __init__(
        self, status: int, error_code: str, message: str, fields: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = fields

    def response(self) -> Response:
        """The HTTP response."""
        body: dict[str, Any] = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
            body["fields"] = self.fields
        return json_response([body], self.status)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """JSON with Salesforce's content type."""
    return JSONResponse(body, status_code=status, headers=headers, media_type=JSON_TYPE)


async def read_json(request: Request) -> Any:
    """The request body as JSON, or a JSON_PARSER_ERROR."""
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "JSON_PARSER_ERROR", f"Unexpected character: {exc}") from None


@dataclass
class ApiContext:
    """Services shared by the REST, Bulk and SOAP handlers."""

    config: SandboxConfig
    auth: AuthServer
    records: RecordService
    queries: QueryCursors
    usage: ApiUsage
    clock: Callable[[], datetime]

    async def principal(self, request: Request) -> Principal:
        """The caller, or the 401 Salesforce answers (raised as ApiError)."""
        try:
            return await self.auth.authenticate(request)
        except SessionError:
            raise ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid") from None
