"""Report rows as the rows of a unit's report data extensions, decided without I/O.

Four kinds are written back: ``sms`` (SMS, LMS and MMS reports into SMS Delivery Reports),
``omni`` (the other channels into Omni Reports), ``clicks`` (tracked-link clicks into Unified
URL Tracking) and ``inbound`` (replies into Inbound Messages). A row belongs to a business
unit when the callback data of its message carries the unit's MID (peoplesync writes it there
when a journey sends); the callback-data fields are copied into columns of their own. Times
stay ``datetime``: ``write_rows`` turns them into the server's UTC-6.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from peoplesync.marketing_cloud.data_extensions import (
    CALLBACK_COLUMNS,
    INBOUND_MESSAGES,
    OMNI_REPORTS,
    SMS_DELIVERY_REPORTS,
    UNIFIED_URL_TRACKING,
    DataExtension,
)
from peoplesync.messaging.report_rows import OMNI_COLUMNS, SMS_COLUMNS, SMS_FAMILY

SMS, OMNI, CLICKS, INBOUND, EVENT = "sms", "omni", "clicks", "inbound", "event"
KINDS = (SMS, OMNI, CLICKS, INBOUND)
EXTENSIONS: dict[str, DataExtension] = {
    SMS: SMS_DELIVERY_REPORTS,
    OMNI: OMNI_REPORTS,
    CLICKS: UNIFIED_URL_TRACKING,
    INBOUND: INBOUND_MESSAGES,
}
_CALLBACK_NAMES = tuple(column.name for column in CALLBACK_COLUMNS)
INBOUND_COLUMNS = {
    "messageId": "message_id",
    "from": "sender",
    "to": "recipient",
    "text": "text",
    "keyword": "keyword",
    "receivedAt": "received_at",
    "channel": "channel",
    "inReplyTo": "in_reply_to",
}


def callback_fields(callback_data: str | None) -> dict[str, str]:
    """The callback data's fields (an unreadable or non-object callback data has none)."""
    if not callback_data:
        return {}
    try:
        decoded = json.loads(callback_data)
    except ValueError:
        return {}
    if not isinstance(decoded, dict):
        return {}
    return {str(key): str(value) for key, value in decoded.items() if value is not None}


def mid_pattern(mid: str) -> str:
    """A ``LIKE`` pattern that preselects callback data carrying ``mid`` (checked again)."""
    return f'%"MID":"{mid}"%'


def report_kind(channel: str) -> str:
    return SMS if channel in SMS_FAMILY else OMNI


def report_row(row: Mapping[str, Any], mid: str) -> dict[str, Any] | None:
    """A ``message_reports`` row under its extension's columns, or ``None`` when the message
    was not sent by a journey of the unit ``mid``."""
    fields = callback_fields(row.get("callback_data"))
    if fields.get("MID") != mid:
        return None
    columns = SMS_COLUMNS if report_kind(str(row.get("channel"))) == SMS else OMNI_COLUMNS
    out = {name: row.get(column) for name, column in columns.items()}
    out.update({name: fields[name] for name in _CALLBACK_NAMES if name in fields})
    return out


CLICK_COLUMNS = {
    "notificationType": "notification_type",
    "messageId": "message_id",
    "recipient": "recipient",
    "url": "url",
    "sendDateTime": "clicked_at",
    "deviceType": "device_type",
    "os": "os",
    "deviceName": "device_name",
    "callbackData": "callback_data",
    "channel": "channel",
}


def click_row(row: Mapping[str, Any], mid: str) -> dict[str, Any] | None:
    """A ``link_clicks`` row under the Unified URL Tracking columns, or ``None`` when the
    message clicked was not sent by a journey of the unit ``mid``."""
    fields = callback_fields(row.get("callback_data"))
    if fields.get("MID") != mid:
        return None
    out = {name: row.get(column) for name, column in CLICK_COLUMNS.items()}
    out.update({name: fields[name] for name in _CALLBACK_NAMES if name in fields})
    return out


def inbound_row(
    row: Mapping[str, Any], sent_callback: str | None, mid: str
) -> dict[str, Any] | None:
    """A reply under the Inbound Messages columns; it belongs to the unit whose journey sent
    the message replied to (``sent_callback``: that message's callback data)."""
    fields = callback_fields(sent_callback)
    if fields.get("MID") != mid:
        return None
    out = {name: row.get(column) for name, column in INBOUND_COLUMNS.items()}
    out["ContactKey"] = fields.get("ContactKey")
    out["callbackData"] = sent_callback
    return out


def fingerprint(row: Mapping[str, Any]) -> str:
    """Equal for equal rows: a row changed since it was written is written again."""
    text = json.dumps(
        {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in row.items()
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def webhook_body(unit: str, kind: str, rows: Sequence[Mapping[str, str | None]]) -> dict[str, Any]:
    """What an external store receives: the unit, the extension the rows would go to, rows."""
    extension = EXTENSIONS[kind]
    return {
        "businessUnit": unit,
        "kind": kind,
        "dataExtension": extension.name,
        "key": extension.key,
        "rows": [dict(row) for row in rows],
    }
