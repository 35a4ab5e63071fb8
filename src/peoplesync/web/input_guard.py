"""Text no database can store: NUL characters (PostgreSQL refuses them) and unpaired UTF-16
surrogates (which a JSON body may spell as "\\ud800" and no database can encode).

A request carrying such text in its path, query, JSON body or form is refused up front with
a 422 naming the field, instead of failing deep in a query as a server error.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from peoplesync.web.error_bodies import ErrorBody

_MAX_CHECKED_BODY = 10 * 1024 * 1024  # larger bodies are files (imports), checked where read


def unstorable(text: str) -> bool:
    """Whether ``text`` holds a NUL character or an unpaired surrogate."""
    if "\x00" in text:
        return True
    if text.isascii():
        return False
    try:  # UTF-8 encodes every code point but a surrogate (a pair was joined by json.loads)
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def unstorable_field(value: Any, path: str = "") -> str | None:
    """The first place (``values.first_name``, ``emails[0]``) in a JSON value whose key or
    text cannot be stored, or None."""
    if isinstance(value, str):
        return path or "body" if unstorable(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            place = f"{path}.{key}" if path else str(key)
            if unstorable(str(key)):
                return path or "body"
            found = unstorable_field(item, place)
            if found is not None:
                return found
    if isinstance(value, list):
        for position, item in enumerate(value):
            found = unstorable_field(item, f"{path or 'body'}[{position}]")
            if found is not None:
                return found
    return None


def _pairs_field(pairs: list[tuple[str, str]]) -> str | None:
    for key, value in pairs:
        if unstorable(key) or unstorable(value):
            return key if not unstorable(key) else "query"
    return None


async def unstorable_input(request: Request) -> str | None:
    """The field of the request whose text cannot be stored, or None."""
    if unstorable(request.url.path):
        return "path"
    found = _pairs_field(list(request.query_params.multi_items()))
    if found is not None:
        return found
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    size = request.headers.get("content-length", "")
    if not size.isdigit() or int(size) > _MAX_CHECKED_BODY:
        return None
    if media == "application/json" or media.endswith("+json"):
        try:
            return unstorable_field(json.loads(await request.body()))
        except (ValueError, UnicodeDecodeError):
            return None  # the route answers that the body is not JSON
    if media == "application/x-www-form-urlencoded":
        text = (await request.body()).decode("utf-8", "replace")
        return _pairs_field(parse_qsl(text, keep_blank_values=True))
    return None


def unstorable_error(field: str) -> ErrorBody:
    """The answer to a request with unstorable text."""
    return ErrorBody(
        422,
        "INVALID_TEXT",
        "text may not contain NUL characters or unpaired surrogates",
        field,
        "remove the control characters",
    )


__all__ = ["unstorable", "unstorable_error", "unstorable_field", "unstorable_input"]
