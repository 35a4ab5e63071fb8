"""Short links on the People database: claiming codes at enqueue, following them on a click.

A code is claimed by inserting it under the table's primary key: a code already taken (by an
earlier message, or by a concurrent enqueue on another process) is not inserted, and that
link gets a fresh code and tries again, so two messages never share a code.

Following a link is one indexed read (the code is the primary key, joined to its message by
the message's primary key; codes followed at the same time share one read, and links followed
lately are answered from memory); a tracked link's click is then committed (click row, message
event, timeline event; see ``recorder``) before the redirect is answered, so an answered
redirect is a recorded click.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from peoplesync.clock import Clock
from peoplesync.errors import RetryableError
from peoplesync.messaging.call_groups import CallGroups
from peoplesync.messaging.links.click import Click
from peoplesync.messaging.links.devices import Device, read_device
from peoplesync.messaging.links.recorder import ClickRecord, ClickRecorder
from peoplesync.messaging.links.shortener import LinkPlan
from peoplesync.messaging.links.tables import link_clicks, short_links
from peoplesync.messaging.tables import outbound_messages

log = logging.getLogger(__name__)
CACHED_LINKS = 20_000  # links kept in memory, the last followed (a few MB)
CODE_ATTEMPTS = 8  # a collision is one in ~10^8 per link: eight in a row is a broken generator
_l, _c, _m = short_links, link_clicks, outbound_messages


async def claim_codes(
    conn: AsyncConnection,
    plans: Mapping[str, LinkPlan],
    new_code: Callable[[], str],
    now: datetime,
) -> dict[str, LinkPlan]:
    """Store each message's links under unique codes (in the caller's transaction).

    Returns the plans with the codes that were stored: write these into the messages.
    """
    final = dict(plans)
    waiting = {(m, link.position) for m, plan in plans.items() for link in plan.links}
    for _attempt in range(CODE_ATTEMPTS):
        if not waiting:
            return final
        rows = [
            {
                "code": link.code,
                "message_id": message_id,
                "position": link.position,
                "url": link.url,
                "base": plan.base,
                "tracked": plan.tracked,
                "created_at": now,
            }
            for message_id, plan in final.items()
            for link in plan.links
            if (message_id, link.position) in waiting
        ]
        stored = await _insert_new(conn, rows)
        waiting -= stored
        taken: dict[str, dict[int, str]] = {}
        for message_id, position in waiting:
            taken.setdefault(message_id, {})[position] = new_code()
        for message_id, codes in taken.items():
            final[message_id] = final[message_id].recoded(codes)
    if waiting:
        raise RetryableError(
            f"{len(waiting)} short-link codes collided {CODE_ATTEMPTS} times in a row",
            hint="the code generator repeats itself; check messaging.links.codes",
        )
    return final


async def _insert_new(
    conn: AsyncConnection, rows: Sequence[dict[str, Any]]
) -> set[tuple[str, int]]:
    """Insert rows whose code is free; returns (message, position) of those inserted."""
    if not rows:
        return set()
    dialect = conn.dialect.name
    insert = postgresql.insert(_l) if dialect == "postgresql" else sqlite.insert(_l)
    stored: set[tuple[str, int]] = set()
    by_code: dict[str, dict[str, Any]] = {}
    for row in rows:  # one code twice in one batch: the second waits for a fresh code
        by_code.setdefault(row["code"], row)
    statement = insert.on_conflict_do_nothing(index_elements=["code"]).returning(
        _l.c.message_id, _l.c.position
    )
    batch = list(by_code.values())
    for start in range(0, len(batch), 500):
        result = await conn.execute(statement.values(batch[start : start + 500]))
        stored.update((row.message_id, row.position) for row in result)
    return stored


@dataclass(frozen=True)
class _Link:
    """What following a code needs: the link and the message it was sent in (neither
    changes once stored, so it may be cached)."""

    url: str
    tracked: bool
    message_id: str
    channel: str | None
    recipient: str | None
    person_id: str | None
    callback_data: str | None


class ShortLinks:
    """Following short links, and what was clicked.

    Codes followed at the same time are read in one query (``CallGroups``), and the links
    last followed are kept in memory (``CACHED_LINKS`` of them), so a campaign's popular
    links cost no read at all. A code not found is not cached: it may be claimed later.
    """

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._recorder = ClickRecorder(engine)
        self._reads: CallGroups[str, _Link | None] = CallGroups(
            self._read, lambda _code: 1, max_size=500
        )
        self._cache: OrderedDict[str, _Link] = OrderedDict()

    async def follow(self, code: str, user_agent: str | None, *, record: bool = True) -> str | None:
        """The long URL behind ``code`` (None if unknown); a tracked link's click is recorded
        (committed) before this returns, unless ``record`` is off (a HEAD request)."""
        link = self._cache.get(code)
        if link is None:
            link = await self._reads.submit(code)
            if link is None:
                return None
            self._cache[code] = link
            if len(self._cache) > CACHED_LINKS:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(code)
        if link.tracked and record:
            click = Click(
                message_id=link.message_id,
                recipient=link.recipient,
                url=link.url,
                clicked_at=self._clock.now(),
                device=read_device(user_agent),
                callback_data=link.callback_data,
                channel=link.channel,
            )
            try:
                await self._recorder.record(ClickRecord(code, click, user_agent, link.person_id))
            except (sa.exc.SQLAlchemyError, OSError):  # the recipient still gets the page
                log.exception("the click on short link %s could not be recorded", code)
        return link.url

    async def _read(self, codes: Sequence[str]) -> list[_Link | None]:
        """The links of ``codes`` (None for an unknown one), in one indexed read."""
        query = sa.select(
            _l.c.code,
            _l.c.url,
            _l.c.tracked,
            _l.c.message_id,
            _m.c.channel,
            _m.c.recipient,
            _m.c.person_id,
            _m.c.callback_data,
        ).select_from(_l.outerjoin(_m, _m.c.id == _l.c.message_id))
        wanted = sorted(set(codes))
        # One code (an idle moment) keeps the plain statement: an IN list is re-rendered on
        # every call (runs at one in flight took 10-20% more CPU a redirect with it; noisy).
        query = query.where(_l.c.code == wanted[0] if len(wanted) == 1 else _l.c.code.in_(wanted))
        async with self._engine.connect() as conn:
            found = {row.code: _Link(*row[1:]) for row in await conn.execute(query)}
        return [found.get(code) for code in codes]

    async def links_of(self, message_id: str) -> list[dict[str, Any]]:
        """A message's short links with their click counts, in body order."""
        clicks = (
            sa.select(sa.func.count())
            .where(_c.c.code == _l.c.code)
            .scalar_subquery()
            .label("clicks")
        )
        query = (
            sa.select(_l.c.position, _l.c.code, _l.c.base, _l.c.url, _l.c.tracked, clicks)
            .where(_l.c.message_id == message_id)
            .order_by(_l.c.position)
        )
        async with self._engine.connect() as conn:
            return [
                {
                    "position": row.position,
                    "short_url": f"{row.base}/{row.code}",
                    "url": row.url,
                    "tracked": row.tracked,
                    "clicks": int(row.clicks),
                }
                for row in await conn.execute(query)
            ]

    async def clicks(self, *, message_id: str | None = None, limit: int = 1000) -> list[Click]:
        """Clicks, oldest first (of one message, or all): the report's rows."""
        query = sa.select(_c).order_by(_c.c.id).limit(limit)
        if message_id is not None:
            query = query.where(_c.c.message_id == message_id)
        async with self._engine.connect() as conn:
            return [
                Click(
                    message_id=row.message_id,
                    recipient=row.recipient,
                    url=row.url,
                    clicked_at=row.clicked_at,
                    device=Device(row.device_type, row.os, row.device_name),
                    callback_data=row.callback_data,
                    channel=row.channel,
                    notification_type=row.notification_type,
                )
                for row in await conn.execute(query)
            ]
