"""Short links on SQLite and PostgreSQL: made at enqueue, followed, clicks recorded, codes
kept unique when they collide (also between concurrent enqueues)."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import ManualClock
from peoplesync.messaging.links.codes import new_code
from peoplesync.messaging.links.shortener import LinkPlan, prepare
from peoplesync.messaging.links.store import ShortLinks, claim_codes
from peoplesync.messaging.links.tables import short_links
from peoplesync.messaging.outbox import MessageDraft, Outbox
from peoplesync.people.model import PersonInput
from peoplesync.people.sql_store import SqlPeopleStore

BASE = "https://people.test"
BOT = "WhatsApp/2.23.20.0 A"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)


def _draft(key: str, text: str, **extra: object) -> MessageDraft:
    request = {"to": "385911234567", "text": text, "shortenUrl": True, "trackClicks": True}
    return MessageDraft(key, "main", "sms", request | extra, callback_data='{"c":"1"}')


def _codes(*first: str) -> Callable[[], str]:
    """The given codes, then fresh random ones."""
    given: Iterator[str] = iter(first)
    return lambda: next(given, None) or new_code()


async def _code_of(links: ShortLinks, message_id: str) -> list[str]:
    return [link["short_url"].rsplit("/", 1)[1] for link in await links.links_of(message_id)]


async def test_links_are_made_at_enqueue_and_followed(
    store: SqlPeopleStore, clock: ManualClock
) -> None:
    outbox = Outbox(store.engine, clock, link_base=BASE)
    text = "A https://a.example/x?y=1, B https://b.example/(z) and C https://a.example/x?y=1"
    [queued] = await outbox.enqueue([_draft("k", text)])
    message = await outbox.get(queued.message_id)
    assert message is not None
    links = ShortLinks(store.engine, clock)
    shown = await links.links_of(queued.message_id)
    assert [(link["position"], link["url"], link["clicks"]) for link in shown] == [
        (0, "https://a.example/x?y=1", 0),
        (1, "https://b.example/(z)", 0),
        (2, "https://a.example/x?y=1", 0),  # one link per position, the same URL or not
    ]
    short = [link["short_url"] for link in shown]
    assert message.request["text"] == f"A {short[0]}, B {short[1]} and C {short[2]}"
    assert message.request["shortenUrl"] is False  # the provider does not shorten again
    code = short[1].rsplit("/", 1)[1]
    assert await links.follow(code, IPHONE) == "https://b.example/(z)"
    assert await links.follow("Nope1234", IPHONE) is None
    [click] = await links.clicks(message_id=queued.message_id)
    assert (click.url, click.device.device_type, click.device.os) == (
        "https://b.example/(z)",
        "mobile",
        "iOS 17.1",
    )
    assert click.callback_data == '{"c":"1"}'
    events = await outbox.events(queued.message_id)
    assert [e["kind"] for e in events] == ["queued", "clicked"]
    assert events[1]["detail"]["url"] == "https://b.example/(z)"
    assert [link["clicks"] for link in await links.links_of(queued.message_id)] == [0, 1, 0]
    # Enqueued again under the same key: the same message, no new links.
    await outbox.enqueue([_draft("k", text)])
    async with store.engine.connect() as conn:
        count = (await conn.execute(sa.select(sa.func.count()).select_from(short_links))).scalar()
    assert count == 3


async def test_bots_are_reported_but_not_put_on_the_timeline_and_untracked_links_not_counted(
    store: SqlPeopleStore, clock: ManualClock
) -> None:
    created = await store.upsert_persons(
        [PersonInput(emails=["ivo@example.com"], phones=["+385 91 123 4567"])], origin="t"
    )
    person = created.ids[0]
    assert person is not None
    outbox = Outbox(store.engine, clock, link_base=BASE)
    [tracked, untracked] = await outbox.enqueue(
        [
            _draft("t", "https://a.example/t"),
            _draft("u", "https://a.example/u", trackClicks=False),
        ]
    )
    links = ShortLinks(store.engine, clock)
    [tracked_code] = await _code_of(links, tracked.message_id)
    [untracked_code] = await _code_of(links, untracked.message_id)
    assert await links.follow(tracked_code, BOT) == "https://a.example/t"
    assert await links.follow(untracked_code, IPHONE) == "https://a.example/u"
    assert await store.timeline(person) == []
    assert [e["kind"] for e in await outbox.events(tracked.message_id)] == ["queued"]
    clock.advance(timedelta(seconds=60))
    assert await links.follow(tracked_code, IPHONE) == "https://a.example/t"
    reports = [c.as_report() for c in await links.clicks()]
    assert [(r["messageId"], r["deviceType"], r["deviceName"]) for r in reports] == [
        (tracked.message_id, "bot", "WhatsApp"),
        (tracked.message_id, "mobile", "Apple"),
    ]
    [event] = await store.timeline(person)
    assert (event.kind, event.data["message_id"]) == ("message_clicked", tracked.message_id)
    events = await outbox.events(tracked.message_id)
    assert [(e["kind"], e["detail"]["deviceType"]) for e in events[1:]] == [("clicked", "mobile")]


async def test_a_refused_message_keeps_its_text_and_gets_no_links(
    store: SqlPeopleStore, clock: ManualClock
) -> None:
    outbox = Outbox(store.engine, clock, link_base=BASE)
    [bad] = await outbox.enqueue([_draft("b", "https://a.example", customDomain="not a domain")])
    assert bad.status == "Error: Invalid custom domain length"
    assert bad.field == "customDomain"
    stored = await outbox.get(bad.message_id)
    assert stored is not None and stored.request["text"] == "https://a.example"
    assert await ShortLinks(store.engine, clock).links_of(bad.message_id) == []


async def test_a_taken_code_is_replaced_in_the_link_and_the_text(
    store: SqlPeopleStore, clock: ManualClock
) -> None:
    links = ShortLinks(store.engine, clock)
    first = Outbox(store.engine, clock, link_base=BASE, link_code=_codes("Taken001"))
    [one] = await first.enqueue([_draft("1", "https://a.example/1")])
    second = Outbox(store.engine, clock, link_base=BASE, link_code=_codes("Taken001", "Taken001"))
    [two] = await second.enqueue([_draft("2", "https://a.example/2")])
    assert await _code_of(links, one.message_id) == ["Taken001"]
    [code] = await _code_of(links, two.message_id)
    assert code != "Taken001"
    message = await second.get(two.message_id)
    assert message is not None and message.request["text"] == f"{BASE}/{code}"
    assert await links.follow("Taken001", None) == "https://a.example/1"
    assert await links.follow(code, None) == "https://a.example/2"
    # One code drawn twice for one message's two links: the second gets a fresh one.
    twice = Outbox(store.engine, clock, link_base=BASE, link_code=_codes("Dup00001", "Dup00001"))
    [three] = await twice.enqueue([_draft("3", "https://a.example/3 https://a.example/4")])
    first, second = await _code_of(links, three.message_id)
    assert first == "Dup00001" and second != "Dup00001"
    assert await links.follow(second, None) == "https://a.example/4"


async def test_concurrent_enqueues_drawing_the_same_codes_get_distinct_links(
    store: SqlPeopleStore, clock: ManualClock
) -> None:
    # Every outbox draws the same first codes, as a broken or unlucky generator would.
    outboxes = [
        Outbox(store.engine, clock, link_base=BASE, link_code=_codes("Same0001", "Same0002"))
        for _ in range(4)
    ]
    results = await asyncio.gather(
        *(
            outbox.enqueue([_draft(f"k{i}", "https://a.example/x https://b.example/y")])
            for i, outbox in enumerate(outboxes)
        )
    )
    links = ShortLinks(store.engine, clock)
    codes = [code for [queued] in results for code in await _code_of(links, queued.message_id)]
    assert len(codes) == 8 and len(set(codes)) == 8
    for [queued] in results:
        message = await outboxes[0].get(queued.message_id)
        assert message is not None
        for code in await _code_of(links, queued.message_id):
            assert f"{BASE}/{code}" in message.request["text"]


async def test_claims_racing_in_two_transactions_never_share_a_code(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    counter = itertools.count()

    def plan_for(key: str) -> dict[str, LinkPlan]:
        ready = prepare(
            "sms",
            _draft(key, "https://a.example").request,
            default_base=BASE,
            new_code=lambda: "Race0001",
        )
        assert ready.plan is not None
        return {key: ready.plan}

    async def claim(key: str) -> str:
        async with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                await conn.exec_driver_sql("BEGIN IMMEDIATE")
            stored = await claim_codes(
                conn, plan_for(key), lambda: f"Race{next(counter) + 2:04d}", clock.now()
            )
            await asyncio.sleep(0.05)  # hold the transaction open while the other claims
            return stored[key].links[0].code

    codes = await asyncio.gather(claim("m1"), claim("m2"))
    assert sorted(codes) == ["Race0001", "Race0002"]
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(short_links.c.code, short_links.c.message_id))).all()
    assert {code for code, _ in rows} == {"Race0001", "Race0002"}
    assert {message for _, message in rows} == {"m1", "m2"}


async def test_a_click_that_cannot_be_stored_still_redirects_and_is_logged(
    store: SqlPeopleStore, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(store.engine, clock, link_base=BASE)
    [queued] = await outbox.enqueue([_draft("k", "https://a.example/x")])
    links = ShortLinks(store.engine, clock)
    [code] = await _code_of(links, queued.message_id)
    async with store.engine.begin() as conn:
        await conn.execute(sa.text("DROP TABLE link_clicks"))
    with caplog.at_level(logging.ERROR, logger="peoplesync.messaging.links.store"):
        assert await links.follow(code, IPHONE) == "https://a.example/x"
    assert f"the click on short link {code} could not be recorded" in caplog.text
    assert [e["kind"] for e in await outbox.events(queued.message_id)] == ["queued"]


async def test_links_followed_together_share_a_read_and_are_then_answered_from_memory(
    store: SqlPeopleStore, clock: ManualClock
) -> None:
    outbox = Outbox(store.engine, clock, link_base=BASE)
    text = "https://a.example/1 https://a.example/2 https://a.example/3"
    [queued] = await outbox.enqueue([_draft("k", text)])
    links = ShortLinks(store.engine, clock)
    codes = await _code_of(links, queued.message_id)
    reads: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "short_links" in statement:
            reads.append(statement)

    sa.event.listen(store.engine.sync_engine, "before_cursor_execute", count)
    try:
        followed = await asyncio.gather(
            *(links.follow(code, IPHONE, record=False) for code in [*codes, "Unkn0wn1"])
        )
        assert followed == [
            "https://a.example/1",
            "https://a.example/2",
            "https://a.example/3",
            None,
        ]
        assert len(reads) == 1  # four codes, one query
        assert await links.follow(codes[1], IPHONE) == "https://a.example/2"
        assert len(reads) == 1  # known now: no read, and the click is still recorded
        assert await links.follow("Unkn0wn1", IPHONE) is None
        assert len(reads) == 2  # an unknown code is looked up again (it may be claimed later)
    finally:
        sa.event.remove(store.engine.sync_engine, "before_cursor_execute", count)
    [click] = await links.clicks(message_id=queued.message_id)
    assert (click.url, click.device.os) == ("https://a.example/2", "iOS 17.1")
