"""Reports kept as rows with the columns of Marketing Cloud's report data extensions.

One row a message: SMS, LMS and MMS reports fill the "SMS Delivery Reports" columns (with
``originalMCC``/``originalMNC``), the other channels the "Omni Reports" columns (with
``seenAt``). A seen report may come before the delivery report; either creates the row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from peoplesync.messaging.reports import DeliveryReport, SeenReport
from peoplesync.messaging.tables import message_reports

_r = message_reports
SMS_FAMILY = frozenset({"sms", "lms", "mms"})
# The data extensions' column names, for showing a row as Marketing Cloud would.
SMS_COLUMNS = {
    "messageId": "message_id",
    "messageCount": "message_count",
    "to": "recipient",
    "from": "sender",
    "pricePerMessage": "price_per_message",
    "priceCurrency": "currency",
    "statusGroupId": "status_group_id",
    "statusGroupName": "status_group_name",
    "statusId": "status_id",
    "statusName": "status_name",
    "statusDescription": "status_description",
    "errorGroupId": "error_group_id",
    "errorGroupName": "error_group_name",
    "errorId": "error_id",
    "errorName": "error_name",
    "errorDescription": "error_description",
    "errorPermanent": "error_permanent",
    "callbackData": "callback_data",
    "sentAt": "sent_at",
    "doneAt": "done_at",
    "originalMCC": "original_mcc",
    "originalMNC": "original_mnc",
}
OMNI_COLUMNS = {
    **{k: v for k, v in SMS_COLUMNS.items() if not k.startswith("original")},
    "Currency": "currency",
    "seenAt": "seen_at",
    "channel": "channel",
}
del OMNI_COLUMNS["priceCurrency"]


def delivery_row(report: DeliveryReport, channel: str, recipient: str) -> dict[str, Any]:
    """The columns a delivery report sets (``recipient``: the message's, if the report has none)."""
    mcc_mnc = report.mcc_mnc or ""
    return {
        "channel": channel,
        "message_count": report.parts if report.parts is not None else 1,
        "recipient": (report.to or recipient)[:50],
        "sender": (report.sender or "")[:50] or None,
        "price_per_message": report.price,
        "currency": (report.currency or "")[:5] or None,
        "status_group_id": report.status_group_id,
        "status_group_name": report.status_group[:50],
        "status_id": report.status_id,
        "status_name": report.status_name[:50],
        "status_description": report.status_description[:100],
        "error_group_id": report.error_group_id,
        "error_group_name": (report.error_group_name or "")[:50] or None,
        "error_id": report.error_id,
        "error_name": (report.error_name or "")[:50] or None,
        "error_description": report.error_description[:1000],
        "error_permanent": report.error_permanent,
        "callback_data": report.callback_data,
        "sent_at": report.sent_at,
        "done_at": report.done_at,
        "original_mcc": mcc_mnc[:3] or None if channel in SMS_FAMILY else None,
        "original_mnc": mcc_mnc[3:] or None if channel in SMS_FAMILY else None,
    }


async def save_rows(
    conn: AsyncConnection, rows: Mapping[str, dict[str, Any]], recipients: Mapping[str, str]
) -> None:
    """Insert or update each message's row (``rows``: message id -> columns to set)."""
    if not rows:
        return
    have = await conn.execute(sa.select(_r.c.message_id).where(_r.c.message_id.in_(list(rows))))
    existing = set(have.scalars())
    fresh = [
        {"message_id": mid, "recipient": recipients.get(mid, "")} | values
        for mid, values in rows.items()
        if mid not in existing
    ]
    if fresh:
        await conn.execute(sa.insert(_r), _fill(fresh))
    for mid in sorted(existing & set(rows)):
        await conn.execute(sa.update(_r).where(_r.c.message_id == mid).values(**rows[mid]))


def seen_rows(reports: Sequence[SeenReport], channels: Mapping[str, str]) -> dict[str, Any]:
    return {
        r.message_id: {"seen_at": r.seen_at, "channel": channels.get(r.message_id, "")}
        for r in reports
    }


def _fill(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """executemany needs every row to name the same columns."""
    names = {name for row in rows for name in row}
    return [{name: row.get(name) for name in names} for row in rows]


def as_data_extension(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row under the data extension's own column names."""
    columns = SMS_COLUMNS if row.get("channel") in SMS_FAMILY else OMNI_COLUMNS
    out: dict[str, Any] = {}
    for name, column in columns.items():
        value = row.get(column)
        out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out
