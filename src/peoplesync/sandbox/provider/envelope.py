"""The provider's two error bodies: the current one (``errorCode``) and WhatsApp's older one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from starlette.responses import JSONResponse

_CURRENT = {
    400: (
        "E400",
        "Request cannot be processed.",
        "Check the syntax, violations and adjust the request.",
    ),
    401: (
        "E401",
        "Request lacks valid authentication credentials.",
        "Check the Authorization header and the API key.",
    ),
    403: ("E403", "Forbidden.", "Send the form from the sandbox's own page."),
    404: ("E404", "Resource not found.", "Check the request URL."),
    429: ("E429", "Too many requests sent.", "Wait and retry the request later."),
    500: ("E500", "Something went wrong.", "Retry the request later or contact support."),
}
_LEGACY = {
    400: ("BAD_REQUEST", "Bad request"),
    401: ("UNAUTHORIZED", "Invalid login details"),
    403: ("FORBIDDEN", "Forbidden"),
    404: ("NOT_FOUND", "Requested URL not found"),
    429: ("TOO_MANY_REQUESTS", "Too many requests"),
    500: ("GENERAL_ERROR", "Something went wrong. Please contact support."),
}


def error_response(
    status: int, *, legacy: bool, violations: Sequence[tuple[str, str]] = ()
) -> JSONResponse:
    """An error in the envelope the endpoint uses; violations are (property, message) pairs."""
    if legacy:
        message_id, text = _LEGACY[status]
        exception: dict[str, object] = {"messageId": message_id, "text": text}
        if violations:
            grouped: dict[str, list[str]] = {}
            for prop, violation in violations:
                grouped.setdefault(prop, []).append(violation)
            exception["validationErrors"] = grouped
        return JSONResponse({"requestError": {"serviceException": exception}}, status_code=status)
    code, description, action = _CURRENT[status]
    body: Mapping[str, object] = {
        "errorCode": code,
        "description": description,
        "action": action,
        "violations": [{"property": p, "violation": v} for p, v in violations],
        "resources": [],
    }
    return JSONResponse(body, status_code=status)
