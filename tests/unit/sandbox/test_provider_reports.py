"""The sandbox provider's report dispatcher keeps up with a big send: reports due together
go in a few posts, several in flight, and each message is marked once its post is answered.

Posting one report after the other (one HTTP call and one commit a report) made a
100,000-contact journey's reports lag minutes behind its sends (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from peoplesync.sandbox.provider.config import ProviderConfig, ProviderKnobs
from peoplesync.sandbox.provider.reports import ReportDispatcher
from peoplesync.sandbox.provider.store import MessageStore, NewMessage

NOW = 1_000.0


class Receiver:
    """Answers every post (``fail`` with 503), counting the posts in flight at once."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        for _ in range(5):  # let the other posts of the pass start meanwhile
            await asyncio.sleep(0)
        self.in_flight -= 1
        self.posts.append((str(request.url), json.loads(request.content)))
        return httpx.Response(503 if self.fail else 200)


def _message(n: int, url: str) -> NewMessage:
    return NewMessage(
        message_id=f"m-{n:04d}",
        bulk_id="b",
        channel="sms",
        recipient=f"3859{n:07d}1",
        sender="Acme",
        body={"text": "hi"},
        callback_data=None,
        notify_url=url,
        seen_url=None,
        status={"groupName": "PENDING"},
        submitted_at=NOW - 1,
        report_due=NOW,
        seen_due=None,
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[MessageStore]:
    store = MessageStore(tmp_path / "provider.sqlite3")
    await store.open()
    yield store
    await store.close()


def _dispatcher(store: MessageStore, receiver: Receiver, **knobs: int) -> ReportDispatcher:
    config = ProviderConfig(Path("unused"), "key", knobs=ProviderKnobs(**knobs))
    http = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
    return ReportDispatcher(config, store, http, lambda: NOW)


def _posted_at(path: Path) -> dict[str, float | None]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT message_id, report_posted_at FROM messages").fetchall()
    return dict(rows)


async def test_reports_due_together_to_one_url_go_in_batches(
    store: MessageStore, tmp_path: Path
) -> None:
    await store.add([_message(n, "https://people.test/d") for n in range(250)])
    receiver = Receiver()
    dispatcher = _dispatcher(store, receiver, report_batch=100, webhook_concurrency=4)
    assert await dispatcher.dispatch_due() == 250
    assert sorted(len(body["results"]) for _, body in receiver.posts) == [50, 100, 100]
    posted = [r["messageId"] for _, body in receiver.posts for r in body["results"]]
    assert sorted(posted) == [f"m-{n:04d}" for n in range(250)]  # each once
    assert set(_posted_at(tmp_path / "provider.sqlite3").values()) == {NOW}
    assert await store.due("report", NOW + 1) == []  # nothing posted again
    assert await dispatcher.dispatch_due() == 0 and len(receiver.posts) == 3


async def test_posts_to_several_urls_are_in_flight_at_once(store: MessageStore) -> None:
    urls = [f"https://people.test/{n}" for n in range(6)]
    await store.add([_message(n, urls[n % 6]) for n in range(60)])
    receiver = Receiver()
    dispatcher = _dispatcher(store, receiver, report_batch=100, webhook_concurrency=3)
    assert await dispatcher.dispatch_due() == 60
    assert sorted(url for url, _ in receiver.posts) == urls  # one post a URL
    assert receiver.most_in_flight == 3  # no more than the knob allows, but not one by one


async def test_a_failed_batch_leaves_each_of_its_reports_for_a_retry(
    store: MessageStore, tmp_path: Path
) -> None:
    await store.add([_message(n, "https://people.test/d") for n in range(3)])
    dispatcher = _dispatcher(store, Receiver(fail=True), report_batch=2)
    assert await dispatcher.dispatch_due() == 0
    assert set(_posted_at(tmp_path / "provider.sqlite3").values()) == {None}
    retries = await store.due("report", NOW + 10_000)
    assert sorted((m.message_id, m.report_attempts) for m in retries) == [
        ("m-0000", 1),
        ("m-0001", 1),
        ("m-0002", 1),
    ]


async def test_a_data_dir_from_before_the_posted_time_gets_its_column(tmp_path: Path) -> None:
    path = tmp_path / "provider.sqlite3"
    with sqlite3.connect(path) as db:  # the messages table as it was made before
        db.execute(
            "CREATE TABLE messages (message_id TEXT PRIMARY KEY, bulk_id TEXT NOT NULL,"
            " channel TEXT NOT NULL, recipient TEXT NOT NULL, sender TEXT, body TEXT NOT NULL,"
            " callback_data TEXT, notify_url TEXT, seen_url TEXT, status TEXT NOT NULL,"
            " submitted_at REAL NOT NULL, report_due REAL,"
            " report_state INTEGER NOT NULL DEFAULT 0,"
            " report_attempts INTEGER NOT NULL DEFAULT 0, report_next REAL, seen_due REAL,"
            " seen_state INTEGER NOT NULL DEFAULT 0, seen_attempts INTEGER NOT NULL DEFAULT 0,"
            " seen_next REAL)"
        )
    store = MessageStore(path)
    await store.open()
    try:
        await store.add([_message(1, "https://people.test/d")])
        assert await _dispatcher(store, Receiver()).dispatch_due() == 1
        assert _posted_at(path) == {"m-0001": NOW}
    finally:
        await store.close()
