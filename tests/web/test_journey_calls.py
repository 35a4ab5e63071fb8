"""The plain-ASGI answerer of Journey Builder's POSTs, on its own: what it leaves to the app,
and one of the project's errors answered as JSON with its status."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from peoplesync.web.journey.calls import JourneyCalls


def _scope(method: str, path: str, journey: object = None) -> Scope:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(b"content-type", b"application/jwt")],
        "app": SimpleNamespace(state=SimpleNamespace(journey=journey)),
    }


async def _call(scope: Scope) -> tuple[list[Message], list[str]]:
    passed: list[str] = []
    sent: list[Message] = []

    async def inner(scope: Scope, _receive: Receive, _send: Send) -> None:
        passed.append(f"{scope['method']} {scope['path']}")

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"a.b.c", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await JourneyCalls(inner)(scope, receive, send)
    return sent, passed


async def test_other_methods_and_paths_go_on_to_the_app() -> None:
    for method, path in [
        ("GET", "/journey/acme/message/execute"),
        ("POST", "/journey/acme/message"),
        ("POST", "/journeys/acme/message/execute"),
        ("POST", "/journey/acme/message/execute/"),
    ]:
        sent, passed = await _call(_scope(method, path))
        assert (sent, passed) == ([], [f"{method} {path}"])


async def test_an_app_without_journey_services_answers_404_in_json() -> None:
    sent, passed = await _call(_scope("POST", "/journey/acme/message/execute"))
    assert passed == []
    assert sent[0]["status"] == 404
    assert b"not configured" in sent[1]["body"]


async def test_a_client_gone_before_its_body_is_not_answered() -> None:
    sent: list[Message] = []

    async def inner(_scope: Scope, _receive: Receive, _send: Send) -> None:
        raise AssertionError("not for the routes")

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await JourneyCalls(inner)(_scope("POST", "/journey/acme/message/execute"), receive, send)
    assert sent == []
