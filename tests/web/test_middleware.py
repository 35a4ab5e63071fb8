"""The app-wide ASGI middleware: security headers, Cache-Control on private paths, and the
input guard reading a body once and handing it on to the route unchanged."""

from __future__ import annotations

import json

import httpx
from starlette.types import Message, Scope

from peoplesync.web.input_guard import unstorable_request
from peoplesync.web.middleware import SECURITY_HEADERS


async def test_pages_and_api_answers_carry_the_security_headers(
    anonymous: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    login = await anonymous.get("/login")
    listed = await admin.get("/api/v1/persons")
    for answer in (login, listed):
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers[name] == value, (answer.url, name)
    assert "cache-control" not in login.headers
    assert listed.headers["cache-control"] == "no-store"
    assert len(listed.headers.get_list("content-security-policy")) == 1


async def test_journey_pages_may_be_framed_and_errors_get_headers_too(
    anonymous: httpx.AsyncClient,
) -> None:
    framed = await anonymous.get("/journey/nobody/message/config.json")
    assert framed.status_code == 404
    assert "x-frame-options" not in framed.headers
    assert framed.headers["x-content-type-options"] == "nosniff"
    refused = await anonymous.get("/people", params={"q": "a\x00"})
    assert refused.status_code == 422
    assert refused.headers["x-frame-options"] == "DENY"
    assert refused.headers["cache-control"] == "no-store"


async def test_a_checked_json_body_still_reaches_the_route(admin: httpx.AsyncClient) -> None:
    made = await admin.post(
        "/api/v1/persons", json={"values": {"first_name": "Zoë", "last_name": "Ng"}}
    )
    assert made.status_code == 201, made.text
    assert "Zoë" in made.text


def _scope(content_type: bytes, body: bytes, query: bytes = b"") -> Scope:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    return {"type": "http", "path": "/api/v1/x", "query_string": query, "headers": headers}


def _receive(*messages: Message):  # type: ignore[no-untyped-def]
    queue = list(messages)

    async def receive() -> Message:
        return queue.pop(0)

    return receive


async def test_the_guard_reads_json_and_forms_in_chunks_and_hands_the_body_back() -> None:
    body = json.dumps({"values": {"city": "a\x00"}}).encode()  # spelled \u0000
    parts = ({"type": "http.request", "body": body[:5], "more_body": True},)
    rest = ({"type": "http.request", "body": body[5:], "more_body": False},)
    found = await unstorable_request(_scope(b"application/json", body), _receive(*parts, *rest))
    assert found == ("values.city", body)
    plain = b'{"values": {"city": "Split"}}'
    message = {"type": "http.request", "body": plain, "more_body": False}
    found = await unstorable_request(_scope(b"application/json", plain), _receive(message))
    assert found == (None, plain)
    form = b"name=a%00"
    message = {"type": "http.request", "body": form, "more_body": False}
    found = await unstorable_request(
        _scope(b"application/x-www-form-urlencoded", form), _receive(message)
    )
    assert found == ("name", form)


async def test_the_guard_leaves_other_bodies_and_gone_clients_to_the_app() -> None:
    token = b"a.b.c"
    unread = await unstorable_request(_scope(b"application/jwt", token), _receive())
    assert unread == (None, None)  # nothing was read, so nothing needs handing back
    in_query = await unstorable_request(_scope(b"application/jwt", token, b"q=%00"), _receive())
    assert in_query == ("q", None)
    gone = _receive({"type": "http.disconnect"})
    assert await unstorable_request(_scope(b"application/json", b"{}"), gone) == (None, None)
    surrogate = b'{"a": ["\\ud800"]}'
    message = {"type": "http.request", "body": surrogate, "more_body": False}
    found = await unstorable_request(_scope(b"application/json", surrogate), _receive(message))
    assert found == ("a[0]", surrogate)
