"""Stores inbound replies: one row each, linked to the person whose phone sent it and to the
conversation (the last message we sent that number on the account), with a ``replied`` event
on both the message's trail and the person's timeline.

Idempotent: a provider posts a reply again when it missed our answer; the same provider
message id on the same account is stored once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from peoplesync.clock import Clock
from peoplesync.messaging.inbound import InboundMessage
from peoplesync.messaging.person_timeline import MessageEvent, add_to_timelines
from peoplesync.messaging.tables import inbound_messages, message_events, outbound_messages
from peoplesync.people.model import new_id
from peoplesync.people.tables import person_phones

_i = inbound_messages
_m = outbound_messages
REPLIED = "replied"
_LOCK = 0x70736D6F  # "psmo": the inbound store's advisory lock on PostgreSQL
# A reply on one of these channels answers a message sent on any of them.
_FAMILIES = {"sms": ("sms", "lms", "mms"), "mms": ("sms", "lms", "mms")}


@dataclass(frozen=True)
class StoredReply:
    id: str
    message_id: str  # the provider's
    sender: str
    person_id: str | None
    in_reply_to: str | None


@dataclass
class InboundApplied:
    """What one payload did."""

    stored: list[StoredReply] = field(default_factory=list)
    duplicates: int = 0


class InboundStore:
    """Inbound replies on the People database (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    async def apply(self, account: str, replies: Sequence[InboundMessage]) -> InboundApplied:
        done = InboundApplied()
        now = self._clock.now()
        async with self._engine.begin() as conn:
            # One payload at a time: a retry posted at the same moment waits, then is a duplicate.
            if conn.dialect.name == "sqlite":
                await conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif conn.dialect.name == "postgresql":
                await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
            known = await conn.execute(
                sa.select(_i.c.message_id).where(
                    _i.c.account == account, _i.c.message_id.in_({r.message_id for r in replies})
                )
            )
            seen = set(known.scalars())
            rows, events, trail = [], [], []
            for reply in replies:
                if reply.message_id in seen:
                    done.duplicates += 1
                    continue
                seen.add(reply.message_id)
                at = reply.received_at or now
                conversation = await _last_sent(conn, account, reply)
                person_id = conversation[1] if conversation else None
                if person_id is None:
                    person_id = await _only_person(conn, reply.sender)
                stored = StoredReply(
                    new_id(),
                    reply.message_id,
                    reply.sender,
                    person_id,
                    conversation[0] if conversation else None,
                )
                rows.append(_row(account, reply, stored, at, now))
                done.stored.append(stored)
                if stored.in_reply_to is not None:
                    trail.append(
                        {
                            "message_id": stored.in_reply_to,
                            "kind": REPLIED,
                            "at": at,
                            "detail": {"reply_id": stored.id, "text": reply.text[:500]},
                        }
                    )
                events.append(
                    MessageEvent(
                        stored.in_reply_to or stored.id,
                        REPLIED,
                        at,
                        reply.channel,
                        reply.sender,
                        conversation[1] if conversation else None,
                        {"reply_id": stored.id, "text": reply.text[:500]},
                    )
                )
            if rows:
                await conn.execute(sa.insert(_i), rows)
            if trail:
                await conn.execute(sa.insert(message_events), trail)
            await add_to_timelines(conn, events)
        return done

    async def recent(self, limit: int = 50) -> list[dict[str, object]]:
        """Newest replies first, as the Inbound Messages data extension's rows."""
        query = sa.select(_i).order_by(_i.c.received_at.desc(), _i.c.id.desc()).limit(limit)
        async with self._engine.connect() as conn:
            return [dict(row._mapping) for row in await conn.execute(query)]


async def _last_sent(
    conn: AsyncConnection, account: str, reply: InboundMessage
) -> tuple[str, str | None] | None:
    channels = _FAMILIES.get(reply.channel, (reply.channel,))
    row = (
        await conn.execute(
            sa.select(_m.c.id, _m.c.person_id)
            .where(
                _m.c.account == account,
                _m.c.recipient == reply.sender,
                _m.c.channel.in_(channels),
                _m.c.sent_at.is_not(None),
            )
            .order_by(_m.c.sent_at.desc(), _m.c.id.desc())
            .limit(1)
        )
    ).first()
    return (row.id, row.person_id) if row is not None else None


async def _only_person(conn: AsyncConnection, sender: str) -> str | None:
    rows = await conn.execute(
        sa.select(person_phones.c.person_id).where(person_phones.c.number == f"+{sender}")
    )
    found = sorted(set(rows.scalars()))
    return found[0] if len(found) == 1 else None


def _row(
    account: str, reply: InboundMessage, stored: StoredReply, at: object, now: object
) -> dict[str, object]:
    return {
        "id": stored.id,
        "account": account,
        "message_id": reply.message_id,
        "channel": reply.channel,
        "sender": reply.sender,
        "recipient": reply.recipient,
        "text": reply.text,
        "clean_text": reply.clean_text,
        "keyword": reply.keyword,
        "received_at": at,
        "message_count": reply.message_count,
        "price_per_message": reply.price,
        "currency": reply.currency,
        "callback_data": reply.callback_data,
        "person_id": stored.person_id,
        "in_reply_to": stored.in_reply_to,
        "created_at": now,
    }
