"""Text no database can store: NUL characters (PostgreSQL refuses them) and unpaired UTF-16
surrogates (which a JSON body may spell as "\\ud800" and no database can encode).

A request carrying such text in its path, query, JSON body or form is refused up front with
a 422 naming the field, instead of failing deep in a query as a server error.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import Receive, Scope

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


async def unstorable_request(scope: Scope, receive: Receive) -> tuple[str | None, bytes | None]:
    """The field of an HTTP request whose text cannot be stored (or None), and the body when
    it had to be read for the check (the caller hands it on to the app)."""
    if unstorable(scope["path"]):
        return "path", None
    query = scope.get("query_string", b"")
    if query:
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        found = _pairs_field(pairs)
        if found is not None:
            return found, None
    media, size = _content_headers(scope)
    if not size.isdigit() or int(size) > _MAX_CHECKED_BODY:
        return None, None
    is_json = media == b"application/json" or media.endswith(b"+json")
    if not is_json and media != b"application/x-www-form-urlencoded":
        return None, None  # other bodies (Journey Builder's JWTs, files) are not text fields
    body = await _read_body(receive)
    if body is None:
        return None, None  # the client went away; the app's next receive says so
    if is_json:
        if b"\\u" not in body and b"\x00" not in body:
            # Without a \\u escape, UTF-8 JSON cannot spell NUL or a lone surrogate (a raw
            # control character is invalid JSON, UTF-16/32 JSON has NUL bytes, and a surrogate
            # is invalid UTF-8): the parse and walk below are skipped for most bodies.
            return None, body
        try:
            return unstorable_field(json.loads(body)), body
        except (ValueError, UnicodeDecodeError):
            return None, body  # the route answers that the body is not JSON
    text = body.decode("utf-8", "replace")
    return _pairs_field(parse_qsl(text, keep_blank_values=True)), body


def _content_headers(scope: Scope) -> tuple[bytes, str]:
    media, size = b"", ""
    for name, value in scope["headers"]:
        if name == b"content-type":
            media = value.split(b";")[0].strip().lower()
        elif name == b"content-length":
            size = value.decode("latin-1")
    return media, size


async def _read_body(receive: Receive) -> bytes | None:
    """The whole body, or None when the client disconnected first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def unstorable_error(field: str) -> ErrorBody:
    """The answer to a request with unstorable text."""
    return ErrorBody(
        422,
        "INVALID_TEXT",
        "text may not contain NUL characters or unpaired surrogates",
        field,
        "remove the control characters",
    )


__all__ = ["unstorable", "unstorable_error", "unstorable_field", "unstorable_request"]
