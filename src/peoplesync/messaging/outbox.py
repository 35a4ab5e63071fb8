"""The outbound message queue: a message is stored before any provider call.

Each message has our id (sent to the provider as its message id) and the caller's
idempotency key: the same key enqueued twice is one message. Senders claim due messages
under a lease; a sender that dies mid-call leaves its claim to expire, and the message is
sent again with the same id, which the provider recognises as a duplicate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from peoplesync.clock import Clock
from peoplesync.messaging.channels.catalog import CALLBACK_DATA_LIMIT
from peoplesync.messaging.channels.message_status import MessageStatus
from peoplesync.messaging.channels.validation import normalise_phone, validate_message
from peoplesync.messaging.channels.verdict import Verdict
from peoplesync.messaging.journey_stop import refuse_if_stopped
from peoplesync.messaging.links.codes import new_code
from peoplesync.messaging.links.shortener import LinkPlan, Prepared, prepare
from peoplesync.messaging.links.store import claim_codes
from peoplesync.messaging.links.tables import short_links
from peoplesync.messaging.message import Outcome, SendResult
from peoplesync.messaging.new_messages import (
    Enqueued as Enqueued,
)
from peoplesync.messaging.new_messages import (
    MessageDraft as MessageDraft,
)
from peoplesync.messaging.new_messages import (
    insert_new,
    insert_with_events,
    stored_messages,
)
from peoplesync.messaging.person_timeline import MessageEvent, add_to_timelines
from peoplesync.messaging.queued_message import (
    ACCEPTED,
    INVALID,
    QUEUED,
    REJECTED,
    SENDING,
    QueuedMessage,
    queued_message,
)
from peoplesync.messaging.send_rates import reserve_slots
from peoplesync.messaging.speed_limit import SpeedLimit
from peoplesync.messaging.tables import message_events, outbound_messages
from peoplesync.people.model import new_id
from peoplesync.people.tables import persons
from peoplesync.people.write_gate import write_gate

_m = outbound_messages


class Outbox:
    """The queue on the People database (SQLite or PostgreSQL).

    ``link_base`` (peoplesync's public URL) is where short links point unless a message
    names its own ``customDomain``; ``link_code`` makes their codes.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        *,
        link_base: str | None = None,
        link_code: Callable[[], str] = new_code,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._link_base = link_base
        self._link_code = link_code

    async def person_exists(self, person_id: str) -> bool:
        """Whether People holds a person with this id (a message may name the person it goes to)."""
        async with self._engine.connect() as conn:
            found = await conn.execute(sa.select(persons.c.id).where(persons.c.id == person_id))
            return found.first() is not None

    def _prepare(self, channel: str, request: Mapping[str, object]) -> Prepared:
        return prepare(channel, request, default_base=self._link_base, new_code=self._link_code)

    def check(self, channel: str, request: Mapping[str, object]) -> Verdict:
        """The verdict ``enqueue`` would give: short links planned first, as it plans them."""
        ready = self._prepare(channel, request)
        return ready.refusal or validate_message(channel, ready.request)

    async def enqueue(
        self,
        drafts: Sequence[MessageDraft],
        *,
        limit: SpeedLimit | None = None,
        limit_key: str | None = None,
    ) -> list[Enqueued]:
        """Validate and store drafts in one transaction; known keys return their message.

        A stopped ``limit_key`` (see ``journey_stop``) raises ``SendsStoppedError``.

        On PostgreSQL, drafts with no speed-limit key and no short links are stored by one
        statement, outside a transaction (a statement is atomic on its own): one round trip
        instead of BEGIN, two inserts and COMMIT."""
        # Short links planned and texts validated (as they will be sent) before the write
        # lock: pure work that need not hold up the other writers.
        prepared = [self._prepare(d.channel, d.request) for d in drafts]
        verdicts = [
            p.refusal or _verdict(d, p.request) for d, p in zip(drafts, prepared, strict=True)
        ]
        ready = list(zip(drafts, verdicts, prepared, strict=True))
        if (
            self._engine.dialect.name == "postgresql"
            and limit_key is None
            and not any(p.plan is not None and v.ok for _, v, p in ready)
        ):
            async with self._engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                return await self._store(conn, ready, None, None, at_once=True)
        async with write_gate(self._engine), self._engine.begin() as conn:
            await _serialise(conn)
            return await self._store(conn, ready, limit, limit_key, at_once=False)

    async def _store(
        self,
        conn: AsyncConnection,
        ready: Sequence[tuple[MessageDraft, Verdict, Prepared]],
        limit: SpeedLimit | None,
        limit_key: str | None,
        *,
        at_once: bool,
    ) -> list[Enqueued]:
        now = self._clock.now()
        keys = [draft.idempotency_key for draft, _, _ in ready]
        out: dict[str, Enqueued] = {}
        if limit_key is not None:  # stored drafts need neither a slot nor the stop check
            out.update(await stored_messages(conn, keys))
        unique: dict[str, tuple[MessageDraft, Verdict, Prepared]] = {}
        for draft, verdict, prepared in ready:
            if draft.idempotency_key not in out:  # one message per key, the first draft's
                unique.setdefault(draft.idempotency_key, (draft, verdict, prepared))
        if unique and limit_key is not None:  # a retry of a stored draft still answers
            await refuse_if_stopped(conn, limit_key)
        valid_count = sum(1 for _, verdict, _ in unique.values() if verdict.ok)
        slots = await reserve_slots(conn, limit, limit_key, now, valid_count)
        rows: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        plans: dict[str, LinkPlan] = {}
        originals: dict[str, Mapping[str, object]] = {}
        for key in sorted(unique):  # in key order: see ``new_messages``
            draft, verdict, prepared = unique[key]
            message_id = new_id()
            recipient = draft.request.get("to")
            rows.append(
                {
                    "id": message_id,
                    "idempotency_key": key,
                    "account": draft.account,
                    "channel": draft.channel[:20],
                    "recipient": normalise_phone(recipient)[:20]
                    if isinstance(recipient, str)
                    else "",
                    "request": dict(prepared.request if verdict.ok else draft.request),
                    "callback_data": draft.callback_data,
                    "limit_key": limit_key,
                    "state": QUEUED if verdict.ok else INVALID,
                    "status": verdict.status.value,
                    "detail": verdict.detail,
                    "attempts": 0,
                    "send_after": slots.pop(0) if verdict.ok else now,
                    "created_at": now,
                    "person_id": draft.person_id,
                }
            )
            events.append(
                {
                    "message_id": message_id,
                    "kind": "queued" if verdict.ok else "invalid",
                    "at": now,
                    "detail": {
                        "status": verdict.status.value,
                        "field": verdict.field,
                        "detail": verdict.detail,
                    },
                }
            )
            if prepared.plan is not None and verdict.ok:
                plans[message_id] = prepared.plan
                originals[message_id] = draft.request
            out[key] = Enqueued(
                message_id, verdict.status.value, verdict.field, verdict.detail, False
            )
        if plans:  # codes a concurrent enqueue took are replaced in the text
            stored = await claim_codes(conn, plans, self._link_code, now)
            by_id = {row["id"]: row for row in rows}
            for message_id, plan in stored.items():
                by_id[message_id]["request"] = plan.apply(originals[message_id])
        if not rows:
            return [out[key] for key in keys]
        if at_once:
            ids = await insert_with_events(conn, rows, events, now)
        else:
            ids = await insert_new(conn, rows)
            new_events = [e for e in events if e["message_id"] in ids]
            if new_events:
                await conn.execute(sa.insert(message_events), new_events)
        lost = [row for row in rows if row["id"] not in ids]
        if lost:  # their keys were stored already (by an earlier or a concurrent enqueue)
            lost_keys = [row["idempotency_key"] for row in lost]
            out.update(await stored_messages(conn, lost_keys))
            lost_links = [row["id"] for row in lost if row["id"] in plans]
            if lost_links:  # codes claimed for a message that was not stored
                await conn.execute(
                    sa.delete(short_links).where(short_links.c.message_id.in_(lost_links))
                )
        return [out[key] for key in keys]

    async def claim(self, count: int, lease: timedelta) -> list[QueuedMessage]:
        """Take up to ``count`` due messages (or ones whose sender's lease ran out)."""
        now = self._clock.now()
        due = sa.or_(
            sa.and_(_m.c.state == QUEUED, _m.c.send_after <= now),
            sa.and_(_m.c.state == SENDING, _m.c.lease_until < now),
        )
        async with write_gate(self._engine), self._engine.begin() as conn:
            pick = sa.select(_m.c.id).where(due).order_by(_m.c.send_after).limit(count)
            if conn.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            ids = [row[0] for row in await conn.execute(pick)]
            if not ids:
                return []
            token = new_id()  # this claim's mark, for the sender's answers and releases
            # The rows this claim took come back from the UPDATE itself (an id another
            # claimer took meanwhile no longer matches ``due``): no second look, by key.
            rows = await conn.execute(
                sa.update(_m)
                .where(_m.c.id.in_(ids), due)
                .values(
                    state=SENDING,
                    lease_until=now + lease,
                    claimed_by=token,
                    attempts=_m.c.attempts + 1,
                )
                .returning(*_m.c)
            )
            claimed = [queued_message(row._mapping) for row in rows]
        claimed.sort(key=lambda message: message.send_after)
        return claimed

    async def record(self, results: Sequence[SendResult], *, claimed_by: str) -> int:
        """Store the provider's answers for messages still held by the claim ``claimed_by``:
        accepted, or rejected for good. A claim that expired meanwhile (another sender took
        the message) changes nothing. Returns how many messages were recorded."""
        now = self._clock.now()
        recorded: list[SendResult] = []
        groups: dict[tuple[Outcome, str, str], list[SendResult]] = {}
        for result in results:  # most answers are alike: one statement per kind of answer
            key = (result.outcome, result.status_name, result.description)
            groups.setdefault(key, []).append(result)
        async with write_gate(self._engine), self._engine.begin() as conn:
            for (outcome, status_name, description), members in groups.items():
                by_id = {result.message_id: result for result in members}
                changed = await conn.execute(
                    sa.update(_m)
                    .where(
                        _m.c.id.in_(list(by_id)),
                        _m.c.state == SENDING,
                        _m.c.claimed_by == claimed_by,
                    )
                    .values(
                        state=ACCEPTED if outcome is Outcome.ACCEPTED else REJECTED,
                        detail=description,
                        provider_status=status_name[:60],
                        sent_at=now,
                        lease_until=None,
                    )
                    .returning(_m.c.id)
                )
                recorded.extend(by_id[row[0]] for row in changed)
            if recorded:
                await conn.execute(
                    sa.insert(message_events),
                    [
                        {
                            "message_id": result.message_id,
                            "kind": "sent" if result.outcome is Outcome.ACCEPTED else "rejected",
                            "at": now,
                            "detail": {
                                "status": result.status_name,
                                "group": result.status_group,
                                "description": result.description,
                                "parts": result.parts,
                            },
                        }
                        for result in recorded
                    ],
                )
                await self._sent_to_timelines(conn, recorded, now)
        return len(recorded)

    async def _sent_to_timelines(
        self, conn: AsyncConnection, results: Sequence[SendResult], now: datetime
    ) -> None:
        accepted = [r.message_id for r in results if r.outcome is Outcome.ACCEPTED]
        if not accepted:
            return
        rows = await conn.execute(
            sa.select(_m.c.id, _m.c.channel, _m.c.recipient, _m.c.person_id).where(
                _m.c.id.in_(accepted)
            )
        )
        sent = [MessageEvent(r.id, "sent", now, r.channel, r.recipient, r.person_id) for r in rows]
        await add_to_timelines(conn, sent)

    async def release(
        self, ids: Sequence[str], retry_at: datetime, detail: str, *, claimed_by: str
    ) -> None:
        """Give messages the claim ``claimed_by`` still holds back for a later try."""
        async with write_gate(self._engine), self._engine.begin() as conn:
            await conn.execute(
                sa.update(_m)
                .where(_m.c.id.in_(ids), _m.c.state == SENDING, _m.c.claimed_by == claimed_by)
                .values(state=QUEUED, send_after=retry_at, lease_until=None, detail=detail)
            )

    async def next_due(self) -> datetime | None:
        """The earliest send time of a queued message (a speed-limited slot, a retry)."""
        query = sa.select(sa.func.min(_m.c.send_after)).where(_m.c.state == QUEUED)
        async with self._engine.connect() as conn:
            found: datetime | None = (await conn.execute(query)).scalar_one_or_none()
        return found

    async def get(self, message_id: str) -> QueuedMessage | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(_m).where(_m.c.id == message_id))).first()
        return queued_message(row._mapping) if row is not None else None

    async def recent(
        self, *, limit: int = 50, channel: str | None = None, state: str | None = None
    ) -> list[QueuedMessage]:
        query = sa.select(_m).order_by(_m.c.created_at.desc(), _m.c.id.desc()).limit(limit)
        if channel:
            query = query.where(_m.c.channel == channel)
        if state:
            query = query.where(_m.c.state == state)
        async with self._engine.connect() as conn:
            return [queued_message(row._mapping) for row in await conn.execute(query)]

    async def events(self, message_id: str) -> list[dict[str, Any]]:
        query = (
            sa.select(message_events)
            .where(message_events.c.message_id == message_id)
            .order_by(message_events.c.id)
        )
        async with self._engine.connect() as conn:
            return [
                {"kind": row.kind, "at": row.at.isoformat(), "detail": row.detail}
                for row in await conn.execute(query)
            ]

    async def counts(self) -> dict[str, int]:
        query = sa.select(_m.c.state, sa.func.count()).group_by(_m.c.state)
        async with self._engine.connect() as conn:
            return {state: int(n) for state, n in await conn.execute(query)}


def _verdict(draft: MessageDraft, request: Mapping[str, object]) -> Verdict:
    """The verdict of ``request`` (the draft's, with its short links); callback data the
    provider would refuse (and with it the whole batch's request) makes the message invalid
    on its own."""
    verdict = validate_message(draft.channel, request)
    size = len(draft.callback_data or "")
    if verdict.ok and size > CALLBACK_DATA_LIMIT:
        return Verdict(
            MessageStatus.INVALID_CALLBACK_DATA,
            "callbackData",
            f"callback data takes {size} characters; at most {CALLBACK_DATA_LIMIT} are sent",
        )
    return verdict


async def _serialise(conn: AsyncConnection) -> None:
    """SQLite: the write lock up front, so one enqueue runs at a time. PostgreSQL needs no
    lock of the whole outbox: the unique index on the idempotency key keeps one key one
    message (``_insert``), and ``reserve_slots`` locks its speed-limit key's row, so two
    enqueues under one key take distinct slots."""
    if conn.dialect.name == "sqlite":
        await conn.exec_driver_sql("BEGIN IMMEDIATE")
