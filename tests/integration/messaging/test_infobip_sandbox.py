"""The Infobip adapter against the sandbox provider, in process: sends, retries, reports."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from peoplesync.messaging.channels.catalog import Channel
from peoplesync.messaging.message import Message, Outcome, Webhooks
from peoplesync.messaging.provider_errors import ProviderAuthError, ProviderUnavailableError
from peoplesync.messaging.providers.infobip.client import (
    InfobipAccount,
    InfobipProvider,
    RetryPolicy,
)
from peoplesync.sandbox.provider.app import create_provider_app
from peoplesync.sandbox.provider.config import ProviderConfig, ProviderKnobs
from tests.infobip_contract import response_errors, webhook_errors
from tests.unit.messaging.test_channel_validation import VALID

KEY = "sandbox-key-123"
BASE = "https://provider.test"


@dataclass
class Receiver:
    """Our webhook endpoint's stand-in: records reports, can fail the first calls."""

    fail_first: int = 0
    posts: list[dict[str, Any]] = field(default_factory=list)
    calls: int = 0

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.calls += 1
            if self.calls <= self.fail_first:
                return JSONResponse({"error": "busy"}, status_code=503)
            self.posts.append({"path": request.url.path, "body": json.loads(await request.body())})
            return JSONResponse({})

        return Starlette(routes=[Route("/hooks/{kind}", hook, methods=["POST"])])


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Rig:
    app: Starlette
    http: httpx.AsyncClient
    clock: Clock
    receiver: Receiver

    def provider(self, key: str = KEY, attempts: int = 4) -> InfobipProvider:
        async def no_sleep(_: float) -> None:
            return None

        account = InfobipAccount("main", BASE, key)
        return InfobipProvider(
            account, self.http, retry=RetryPolicy(attempts=attempts), sleep=no_sleep
        )

    async def dispatch(self) -> int:
        posted: int = await self.app.state.provider.reports.dispatch_due()
        return posted


async def _rig(tmp_path: Path, knobs: ProviderKnobs, receiver: Receiver) -> AsyncIterator[Rig]:
    clock = Clock()
    hooks = httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app()))
    config = ProviderConfig(tmp_path / "provider", KEY, seed=7, knobs=knobs, retry_scale=0.01)
    app = create_provider_app(config, clock=clock, webhook_client=hooks, run_reports=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
            yield Rig(app, http, clock, receiver)
    await hooks.aclose()


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async for each in _rig(tmp_path, ProviderKnobs(report_delay_seconds=1), Receiver()):
        yield each


HOOKS = Webhooks(
    delivery_url="https://people.test/hooks/delivery", seen_url="https://people.test/hooks/seen"
)


def _sms(message_id: str, to: str, text: str = "Hello") -> Message:
    return Message(message_id, Channel.SMS, to, VALID[Channel.SMS] | {"text": text}, "cb-1")


async def test_sms_is_accepted_and_its_delivery_report_arrives(rig: Rig) -> None:
    results = await rig.provider().send(
        [_sms("m-1", "385911234567"), _sms("m-2", "385911234500")], bulk_id="b-1", webhooks=HOOKS
    )
    assert [(r.message_id, r.outcome, r.status_name) for r in results] == [
        ("m-1", Outcome.ACCEPTED, "PENDING_ACCEPTED"),
        ("m-2", Outcome.REJECTED, "REJECTED_DESTINATION"),
    ]
    assert await rig.dispatch() == 0  # not due yet
    rig.clock.now += 1.5
    assert await rig.dispatch() == 2
    # due together to one URL: one post carries both (its ``results`` array holds several)
    [post] = rig.receiver.posts
    report, rejected = sorted(post["body"]["results"], key=lambda r: r["messageId"])
    assert rejected["status"]["name"] == "REJECTED_DESTINATION"
    assert (report["messageId"], report["status"]["name"], report["callbackData"]) == (
        "m-1",
        "DELIVERED_TO_HANDSET",
        "cb-1",
    )
    assert (
        webhook_errors(
            "infobip-sms-openapi.json", "receive-outbound-sms-message-reports-v3", post["body"]
        )
        == []
    )


@pytest.mark.parametrize(
    ("suffix", "status", "error"),
    [
        ("91", "UNDELIVERABLE_NOT_DELIVERED", "EC_UNKNOWN_SUBSCRIBER"),
        ("92", "EXPIRED_EXPIRED", "EC_ABSENT_SUBSCRIBER"),
        ("93", "REJECTED_NETWORK", "EC_CONTENT_BLOCKED"),
    ],
)
async def test_outcome_table_by_recipient_number(
    rig: Rig, suffix: str, status: str, error: str
) -> None:
    await rig.provider().send([_sms("x", "3859100000" + suffix)], bulk_id="b", webhooks=HOOKS)
    rig.clock.now += 2
    await rig.dispatch()
    report = rig.receiver.posts[0]["body"]["results"][0]
    assert (report["status"]["name"], report["error"]["name"]) == (status, error)


async def test_pending_until_expiry(rig: Rig) -> None:
    await rig.provider().send([_sms("p", "385910000094")], bulk_id="b", webhooks=HOOKS)
    rig.clock.now += 30
    assert await rig.dispatch() == 0
    rig.clock.now += 31
    assert await rig.dispatch() == 1
    assert rig.receiver.posts[0]["body"]["results"][0]["status"]["name"] == "EXPIRED_EXPIRED"


async def test_every_channel_is_accepted_and_answers_per_the_documents(rig: Rig) -> None:
    for channel, request in VALID.items():
        message = Message(f"id-{channel.value}", channel, "385911112222", request)
        [result] = await rig.provider().send(
            [message], bulk_id=f"b-{channel.value}", webhooks=HOOKS
        )
        assert result.outcome is Outcome.ACCEPTED, (channel, result)
    # The sandbox's raw answers conform to the response schemas too.
    body = {"messages": [{"destinations": [{"to": "385911112222"}], "content": {"text": "x"}}]}
    raw = await rig.http.post("/sms/3/messages", json=body, headers={"Authorization": f"App {KEY}"})
    assert response_errors("/sms/3/messages", 200, raw.json()) == []


async def test_seen_reports_for_viber(rig: Rig) -> None:
    message = Message("v-1", Channel.VIBER, "385913334444", VALID[Channel.VIBER])
    await rig.provider().send([message], bulk_id="b", webhooks=HOOKS)
    rig.clock.now += 5
    await rig.dispatch()
    paths = sorted(post["path"] for post in rig.receiver.posts)
    assert paths == ["/hooks/delivery", "/hooks/seen"]
    seen = next(p["body"] for p in rig.receiver.posts if p["path"] == "/hooks/seen")
    assert webhook_errors("infobip-viber-openapi.json", "receive-viber-seen-reports", seen) == []


async def test_a_retry_never_sends_twice(rig: Rig) -> None:
    provider = rig.provider()
    first = await provider.send([_sms("once", "385915556666")], bulk_id="b", webhooks=HOOKS)
    again = await provider.send([_sms("once", "385915556666")], bulk_id="b", webhooks=HOOKS)
    assert first[0].outcome is Outcome.ACCEPTED
    assert (again[0].outcome, again[0].description) == (
        Outcome.ACCEPTED,
        "taken by an earlier attempt",
    )
    stored = await rig.app.state.provider.store.count()
    assert stored == 1


async def test_bad_key_stops_and_never_shows_the_key(rig: Rig) -> None:
    with pytest.raises(ProviderAuthError) as caught:
        await rig.provider(key="wrong-key-abc").send(
            [_sms("k", "385911")], bulk_id="b", webhooks=HOOKS
        )
    assert "wrong-key-abc" not in str(caught.value)
    assert "401 E401" in str(caught.value)


async def test_bad_request_is_a_rejection_naming_the_property(rig: Rig) -> None:
    message = Message("w", Channel.WHATSAPP, "385911", VALID[Channel.WHATSAPP] | {"from": "x" * 30})
    [result] = await rig.provider().send([message], bulk_id="b", webhooks=HOOKS)
    assert result.outcome is Outcome.REJECTED
    assert "messages[0].from" in result.description


async def test_server_errors_are_retried_then_raised(tmp_path: Path) -> None:
    knobs = ProviderKnobs(rate_500=1.0)
    async for rig in _rig(tmp_path, knobs, Receiver()):
        with pytest.raises(ProviderUnavailableError, match="500 E500"):
            await rig.provider(attempts=3).send([_sms("s", "385911")], bulk_id="b", webhooks=HOOKS)
        assert rig.app.state.provider.calls == 3
        assert await rig.app.state.provider.store.count() == 0


async def test_flaky_provider_still_sends_each_message_once(tmp_path: Path) -> None:
    knobs = ProviderKnobs(rate_500=0.3, rate_429=0.2)
    async for rig in _rig(tmp_path, knobs, Receiver()):
        provider = rig.provider(attempts=30)
        messages = [_sms(f"f-{n}", f"38591{n:07d}") for n in range(1, 41)]
        for start in range(0, 40, 10):
            results = await provider.send(
                messages[start : start + 10], bulk_id=f"b{start}", webhooks=HOOKS
            )
            assert {r.outcome for r in results} == {Outcome.ACCEPTED}
        assert await rig.app.state.provider.store.count() == 40
        assert rig.app.state.provider.calls > 4  # faults were met and retried


async def test_failing_receiver_is_retried_on_schedule(tmp_path: Path) -> None:
    async for rig in _rig(tmp_path, ProviderKnobs(report_delay_seconds=0), Receiver(fail_first=2)):
        await rig.provider().send([_sms("r", "385917778888")], bulk_id="b", webhooks=HOOKS)
        assert await rig.dispatch() == 0  # first attempt fails
        rig.clock.now += 0.5  # retry 1 is due after (60 + 60) x 0.01 = 1.2 s
        assert await rig.dispatch() == 0
        rig.clock.now += 1.0
        assert await rig.dispatch() == 0  # second attempt fails too
        rig.clock.now += 3.0  # retry 2: (60 + 240) x 0.01 = 3 s
        assert await rig.dispatch() == 1
        assert rig.receiver.calls == 3
