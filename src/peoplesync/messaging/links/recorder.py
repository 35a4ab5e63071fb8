"""Writes clicks in groups: one transaction for all the clicks that arrive while the last
one commits (group commit).

A redirect waits for the commit of its own click, so an answered redirect is a recorded
click, yet concurrent redirects share one transaction instead of queueing for the
database's write lock one by one (on SQLite each would otherwise wait its turn, with the
busy handler's sleeps adding up). The writer is a task started when a click arrives and
ended when none is waiting; it needs no start or stop of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.messaging.links.click import Click
from peoplesync.messaging.links.devices import BOT, USER_AGENT_LIMIT
from peoplesync.messaging.links.tables import link_clicks
from peoplesync.messaging.person_timeline import MessageEvent, add_to_timelines
from peoplesync.messaging.tables import message_events

CLICKED = "clicked"  # the message event and (as message_clicked) the timeline event
CLICK = "click"  # the ``source`` of click events


@dataclass(frozen=True)
class ClickRecord:
    """A click to store, with its link's code and the person the message was queued for."""

    code: str
    click: Click
    user_agent: str | None
    person_id: str | None


class ClickRecorder:
    """Stores clicks; concurrent callers are written in one transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._waiting: list[tuple[ClickRecord, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, click: ClickRecord) -> None:
        """Returns once the click is committed (raises what the write raised)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((click, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        await asyncio.shield(done)  # a caller that goes away does not cancel the others' write

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                await self._write([record for record, _ in batch])
            except Exception as exc:  # each waiting redirect answers with the error
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(None)

    async def _write(self, records: Sequence[ClickRecord]) -> None:
        async with self._engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # The durability SQLite has here (WAL, synchronous=NORMAL): safe from a crash
                # of peoplesync, not of the database server's machine; saves a disk flush.
                await conn.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
            await conn.execute(sa.insert(link_clicks), [_row(record) for record in records])
            people = [  # a link preview fetched by a bot is no click of the person's
                record
                for record in records
                if record.click.device.device_type != BOT and record.click.channel is not None
            ]
            if people:
                await conn.execute(
                    sa.insert(message_events),
                    [
                        {
                            "message_id": record.click.message_id,
                            "kind": CLICKED,
                            "at": record.click.clicked_at,
                            "detail": {"source": CLICK} | _event_detail(record.click),
                        }
                        for record in people
                    ],
                )
            events = [
                MessageEvent(
                    record.click.message_id,
                    CLICKED,
                    record.click.clicked_at,
                    record.click.channel or "",
                    record.click.recipient or "",
                    record.person_id,
                )
                for record in people
            ]
            await add_to_timelines(conn, events)


def _event_detail(click: Click) -> dict[str, Any]:
    device = click.device
    return {
        "url": click.url,
        "deviceType": device.device_type,
        "os": device.os,
        "deviceName": device.device_name,
    }


def _row(record: ClickRecord) -> dict[str, Any]:
    click, device = record.click, record.click.device
    return {
        "code": record.code,
        "notification_type": click.notification_type,
        "message_id": click.message_id,
        "recipient": click.recipient,
        "url": click.url,
        "clicked_at": click.clicked_at,
        "device_type": device.device_type,
        "os": device.os,
        "device_name": device.device_name,
        "user_agent": (record.user_agent or "")[:USER_AGENT_LIMIT] or None,
        "callback_data": click.callback_data,
        "channel": click.channel,
    }
