"""A message's events on the timeline of the person it went to.

The person is the message's own ``person_id`` when it has one, else every person whose phone
(E.164) is the recipient's number. Events are written in the caller's transaction, beside the
message event they mirror, so a crash never keeps one without the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from peoplesync.people.model import new_id
from peoplesync.people.tables import person_phones, persons, timeline_events

SOURCE = "messaging"
KIND_PREFIX = "message_"  # message_sent, message_delivered, message_seen, ...


@dataclass(frozen=True)
class MessageEvent:
    message_id: str
    kind: str
    at: datetime
    channel: str
    recipient: str  # digits, country code first
    person_id: str | None
    extra: Mapping[str, Any] = field(default_factory=dict)  # more timeline data (a reply's)


async def add_to_timelines(conn: AsyncConnection, events: Sequence[MessageEvent]) -> int:
    """Add each event to its persons' timelines; returns how many timeline rows were added."""
    if not events:
        return 0
    numbers = {f"+{e.recipient}" for e in events if e.person_id is None and e.recipient}
    by_number: dict[str, list[str]] = {}
    if numbers:
        rows = await conn.execute(
            sa.select(person_phones.c.number, person_phones.c.person_id).where(
                person_phones.c.number.in_(sorted(numbers))
            )
        )
        for number, person_id in rows:
            by_number.setdefault(number, []).append(person_id)
    given = {e.person_id for e in events if e.person_id is not None}
    if given:  # a person may have been deleted since the message was queued
        found = await conn.execute(sa.select(persons.c.id).where(persons.c.id.in_(given)))
        given = set(found.scalars())
    rows_out = []
    for event in events:
        if event.person_id is not None:
            targets = [event.person_id] if event.person_id in given else []
        else:
            targets = sorted(set(by_number.get(f"+{event.recipient}", [])))
        rows_out += [
            {
                "id": new_id(),
                "person_id": person_id,
                "kind": KIND_PREFIX + event.kind,
                "source": SOURCE,
                "occurred_at": event.at,
                "data": {"message_id": event.message_id, "channel": event.channel}
                | dict(event.extra),
            }
            for person_id in targets
        ]
    if rows_out:
        await conn.execute(sa.insert(timeline_events), rows_out)
    return len(rows_out)
