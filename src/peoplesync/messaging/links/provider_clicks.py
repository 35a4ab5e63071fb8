"""Clicks a provider reports on its own short links, stored as our own links' clicks are.

Each click is a "Unified URL Tracking" row (``link_clicks``, without a code of ours), a
``clicked`` message event and a ``message_clicked`` timeline entry, in one transaction.
A report posted again (same message, URL, time and type) is not stored twice: its key is
unique, and only the rows actually inserted get events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.messaging.click_reports import ClickReport
from peoplesync.messaging.links.devices import BOT
from peoplesync.messaging.links.recorder import CLICKED
from peoplesync.messaging.links.tables import link_clicks
from peoplesync.messaging.person_timeline import MessageEvent, add_to_timelines
from peoplesync.messaging.tables import message_events, outbound_messages

PROVIDER = "provider"  # the ``source`` of events from a provider's click report


@dataclass(frozen=True)
class ClicksApplied:
    stored: int = 0
    duplicates: int = 0
    unknown: int = 0  # clicks on messages peoplesync did not send (stored, no events)
    # message ids not sent through the account the report came for: not stored
    rejected: tuple[str, ...] = ()


class ProviderClicks:
    """Stores provider click reports."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def apply(
        self, reports: Sequence[ClickReport], account: str | None = None
    ) -> ClicksApplied:
        """Store ``reports``; with ``account`` (a report receiver's), only clicks on messages
        sent through that account: the others are rejected, nothing of them stored."""
        if not reports:
            return ClicksApplied()
        unique = list({report.key: report for report in reports}.values())
        m = outbound_messages
        async with self._engine.begin() as conn:
            found = await conn.execute(
                sa.select(
                    m.c.id,
                    m.c.account,
                    m.c.channel,
                    m.c.recipient,
                    m.c.person_id,
                    m.c.callback_data,
                ).where(m.c.id.in_(sorted({r.message_id for r in unique})))
            )
            messages = {row.id: row for row in found}
            rejected: tuple[str, ...] = ()
            if account is not None:
                ours = {key for key, row in messages.items() if row.account == account}
                rejected = tuple(sorted({r.message_id for r in unique if r.message_id not in ours}))
                unique = [r for r in unique if r.message_id in ours]
                if not unique:
                    return ClicksApplied(rejected=rejected)
            dialect = conn.dialect.name
            insert = (
                postgresql.insert(link_clicks)
                if dialect == "postgresql"
                else sqlite.insert(link_clicks)
            )
            statement = insert.on_conflict_do_nothing(index_elements=["report_key"]).returning(
                link_clicks.c.report_key
            )
            rows = [_row(report, messages.get(report.message_id)) for report in unique]
            result = await conn.execute(statement.values(rows))
            stored_keys = set(result.scalars())
            fresh = [r for r in unique if r.key in stored_keys]
            people = [r for r in fresh if r.message_id in messages and r.device.device_type != BOT]
            if people:
                await conn.execute(
                    sa.insert(message_events),
                    [
                        {
                            "message_id": r.message_id,
                            "kind": CLICKED,
                            "at": r.clicked_at,
                            "detail": {"source": PROVIDER} | _detail(r),
                        }
                        for r in people
                    ],
                )
                await add_to_timelines(
                    conn,
                    [
                        MessageEvent(
                            r.message_id,
                            CLICKED,
                            r.clicked_at,
                            messages[r.message_id].channel,
                            messages[r.message_id].recipient,
                            messages[r.message_id].person_id,
                        )
                        for r in people
                    ],
                )
        refused = sum(1 for r in reports if r.message_id in rejected)
        return ClicksApplied(
            stored=len(fresh),
            duplicates=len(reports) - len(fresh) - refused,
            unknown=sum(1 for r in fresh if r.message_id not in messages),
            rejected=rejected,
        )


def _detail(report: ClickReport) -> dict[str, Any]:
    device = report.device
    return {
        "url": report.url,
        "deviceType": device.device_type,
        "os": device.os,
        "deviceName": device.device_name,
    }


def _row(report: ClickReport, message: Any) -> dict[str, Any]:
    device = report.device
    return {
        "code": None,
        "notification_type": report.notification_type,
        "message_id": report.message_id,
        "recipient": report.recipient or (message.recipient if message else None),
        "url": report.url,
        "clicked_at": report.clicked_at,
        "device_type": device.device_type,
        "os": device.os,
        "device_name": device.device_name,
        "user_agent": None,
        "callback_data": report.callback_data or (message.callback_data if message else None),
        "channel": message.channel if message else None,
        "report_key": report.key,
    }
