"""What was sent, as operators look at it: recent messages newest first in keyset pages, with
filters by channel, state and recipient number, the person each went to, and a person's own
messages with their timeline events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from peoplesync.errors import ValidationError
from peoplesync.messaging.channels.catalog import Channel
from peoplesync.messaging.channels.validation import normalise_phone
from peoplesync.messaging.person_timeline import KIND_PREFIX, SOURCE
from peoplesync.messaging.queued_message import (
    ACCEPTED,
    INVALID,
    QUEUED,
    REJECTED,
    SENDING,
    QueuedMessage,
    queued_message,
)
from peoplesync.messaging.reports import DELIVERED, EXPIRED, UNDELIVERABLE
from peoplesync.messaging.tables import outbound_messages
from peoplesync.people.tables import person_phones, persons, timeline_events

_m = outbound_messages
STATES = (QUEUED, SENDING, ACCEPTED, DELIVERED, UNDELIVERABLE, EXPIRED, REJECTED, INVALID)
MAX_PAGE = 200
_LIKE_SPECIALS = str.maketrans({"%": "", "_": "", "\\": ""})


@dataclass(frozen=True)
class MessageFilter:
    """Which messages to list; checked by ``check`` (each problem names its field)."""

    channel: str = ""
    state: str = ""
    number: str = ""  # any part of the recipient's number; spaces, + and dashes ignored

    def check(self) -> MessageFilter:
        """The filter with the number reduced to digits; ValidationError names a bad field."""
        if self.channel and self.channel not in {c.value for c in Channel}:
            known = ", ".join(c.value for c in Channel)
            raise ValidationError(
                f"unknown channel {self.channel!r}",
                record="filter",
                field="channel",
                hint=f"use {known}",
            )
        if self.state and self.state not in STATES:
            raise ValidationError(
                f"unknown status {self.state!r}",
                record="filter",
                field="state",
                hint=f"use {', '.join(STATES)}",
            )
        digits = normalise_phone(self.number.strip()).translate(_LIKE_SPECIALS)
        if self.number.strip() and not digits.isdigit():
            raise ValidationError(
                "search by the recipient's number: digits, spaces, + and - only",
                record="filter",
                field="number",
                hint="e.g. +385 91 or 4471",
            )
        return MessageFilter(self.channel, self.state, digits)


@dataclass(frozen=True)
class PersonRef:
    """The person a message went to, as a list shows them."""

    id: str
    name: str


@dataclass(frozen=True)
class MessagePage:
    """One page of messages, newest first; ``next`` continues after the last one."""

    items: list[QueuedMessage]
    next: str | None
    persons: dict[str, PersonRef] = field(default_factory=dict)  # by message id


@dataclass(frozen=True)
class PersonMessage:
    """A message sent to a person, with the events on the person's timeline about it."""

    message: QueuedMessage
    events: list[tuple[str, datetime]]  # (sent, delivered, seen, ...), oldest first


async def list_messages(
    engine: AsyncEngine, wanted: MessageFilter, *, after: str | None = None, limit: int = 50
) -> MessagePage:
    """A page of messages matching ``wanted`` (checked first), newest first."""
    checked = wanted.check()
    limit = max(1, min(limit, MAX_PAGE))
    query = sa.select(_m).order_by(_m.c.created_at.desc(), _m.c.id.desc()).limit(limit + 1)
    if checked.channel:
        query = query.where(_m.c.channel == checked.channel)
    if checked.state:
        query = query.where(_m.c.state == checked.state)
    if checked.number:
        query = query.where(_m.c.recipient.like(f"%{checked.number}%"))
    async with engine.connect() as conn:
        if after:
            mark = await conn.execute(sa.select(_m.c.created_at).where(_m.c.id == after))
            created = mark.scalar_one_or_none()
            if created is None:
                raise ValidationError(
                    "the page cursor names no message",
                    record="filter",
                    field="after",
                    hint="start again from the first page",
                )
            query = query.where(
                sa.or_(
                    _m.c.created_at < created, sa.and_(_m.c.created_at == created, _m.c.id < after)
                )
            )
        rows = [queued_message(row._mapping) for row in await conn.execute(query)]
        items = rows[:limit]
        found = await _persons_of(conn, items)
    return MessagePage(items, items[-1].id if len(rows) > limit else None, found)


async def persons_of(engine: AsyncEngine, items: Sequence[QueuedMessage]) -> dict[str, PersonRef]:
    """Each message's person (see ``_persons_of``), by message id."""
    async with engine.connect() as conn:
        return await _persons_of(conn, items)


async def _persons_of(
    conn: AsyncConnection, items: Sequence[QueuedMessage]
) -> dict[str, PersonRef]:
    """Each message's person: its own ``person_id``, else the one person with its number."""
    by_number: dict[str, set[str]] = {}
    numbers = sorted({f"+{m.recipient}" for m in items if m.person_id is None and m.recipient})
    if numbers:
        rows = await conn.execute(
            sa.select(person_phones.c.number, person_phones.c.person_id).where(
                person_phones.c.number.in_(numbers)
            )
        )
        for number, person_id in rows:
            by_number.setdefault(number, set()).add(person_id)
    chosen: dict[str, str] = {}
    for message in items:
        if message.person_id is not None:
            chosen[message.id] = message.person_id
        elif len(candidates := by_number.get(f"+{message.recipient}", set())) == 1:
            chosen[message.id] = next(iter(candidates))
    if not chosen:
        return {}
    rows = await conn.execute(
        sa.select(persons.c.id, persons.c.first_name, persons.c.last_name).where(
            persons.c.id.in_(sorted(set(chosen.values())))
        )
    )
    names = {
        row.id: " ".join(part for part in (row.first_name, row.last_name) if part) or "(no name)"
        for row in rows
    }
    return {mid: PersonRef(pid, names[pid]) for mid, pid in chosen.items() if pid in names}


async def person_messages(
    engine: AsyncEngine, person_id: str, *, limit: int = 20
) -> list[PersonMessage]:
    """The newest messages to a person (by id or by one of their phones), each with its
    events on the person's timeline."""
    async with engine.connect() as conn:
        phones = await conn.execute(
            sa.select(person_phones.c.number).where(person_phones.c.person_id == person_id)
        )
        digits = sorted({number.removeprefix("+") for number in phones.scalars()})
        events = await conn.execute(
            sa.select(timeline_events.c.kind, timeline_events.c.occurred_at, timeline_events.c.data)
            .where(timeline_events.c.person_id == person_id, timeline_events.c.source == SOURCE)
            .order_by(timeline_events.c.occurred_at, timeline_events.c.id)
            .limit(2000)
        )
        by_message: dict[str, list[tuple[str, datetime]]] = {}
        for kind, at, data in events:
            message_id = data.get("message_id") if isinstance(data, dict) else None
            if isinstance(message_id, str):
                shown = kind.removeprefix(KIND_PREFIX)
                by_message.setdefault(message_id, []).append((shown, at))
        mine = [_m.c.person_id == person_id]
        if digits:
            mine.append(sa.and_(_m.c.person_id.is_(None), _m.c.recipient.in_(digits)))
        if by_message:
            mine.append(_m.c.id.in_(sorted(by_message)))
        rows = await conn.execute(
            sa.select(_m)
            .where(sa.or_(*mine))
            .order_by(_m.c.created_at.desc(), _m.c.id.desc())
            .limit(limit)
        )
        found = [queued_message(row._mapping) for row in rows]
    return [PersonMessage(m, by_message.get(m.id, [])) for m in found]


def message_json(message: QueuedMessage) -> dict[str, Any]:
    """A message as the CLI and the REST API show it."""
    return {
        "message_id": message.id,
        "channel": message.channel,
        "to": message.recipient,
        "account": message.account,
        "state": message.state,
        "messageStatus": message.status,
        "detail": message.detail,
        "provider_status": message.provider_status,
        "attempts": message.attempts,
        "person_id": message.person_id,
        "created_at": message.created_at.isoformat(),
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
    }


__all__ = [
    "STATES",
    "MessageFilter",
    "MessagePage",
    "PersonMessage",
    "PersonRef",
    "list_messages",
    "message_json",
    "person_messages",
    "persons_of",
]
