"""Inbound replies (MO) from a provider: parsed into typed records. Pure.

A payload is Infobip's inbound webhook: ``{"results": [...], "messageCount",
"pendingMessageCount"}``. SMS entries (renderer MO_JSON_2) carry ``from``, ``to``, ``text``,
``cleanText``, ``keyword``, ``receivedAt``, ``smsCount``, ``price`` and ``callbackData``;
Viber, WhatsApp and RCS entries carry ``sender`` (or ``from``), ``integrationType`` and the
reply in ``message`` (``text``, or a file's ``url``). Parsing never raises: a bad entry
becomes a ``ReportError`` naming the entry and the field; the good entries are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from peoplesync.messaging.reports import (
    Parsed,
    ReportError,
    _count,
    _number,
    _object,
    _text,
    _time,
    parse_each,
)

# integrationType -> our channel name; SMS payloads carry none.
_CHANNELS = {"VIBER": "viber", "WHATSAPP": "whatsapp", "RCS": "rcs", "MMS": "mms", "SMS": "sms"}
TEXT_LIMIT = 10_000  # a reply longer than this is cut (an SMS reply is at most 25 parts)


@dataclass(frozen=True)
class InboundMessage:
    """One reply from a handset: the Inbound Messages data extension's columns."""

    message_id: str
    sender: str  # the handset's number ("from")
    recipient: str  # our number or sender id ("to")
    text: str
    clean_text: str
    keyword: str | None
    received_at: datetime | None
    channel: str = "sms"
    message_count: int = 1
    price: float | None = None
    currency: str | None = None
    callback_data: str | None = None


def parse_inbound(body: object) -> Parsed[InboundMessage]:
    """The readable replies of one payload, and an error for each unreadable entry."""
    return parse_each(body, _inbound)


def _inbound(label: str, entry: Mapping[str, Any]) -> InboundMessage:
    message_id = _text(label, entry, "messageId", required=True) or ""
    sender = _text(label, entry, "from") or _text(label, entry, "sender")
    if sender is None:
        raise ReportError("is missing", record=label, field="from")
    recipient = _text(label, entry, "to", required=True) or ""
    for name, value in (("from", sender), ("to", recipient), ("messageId", message_id)):
        if len(value) > (100 if name == "messageId" else 50):
            raise ReportError("is too long", record=label, field=name)
    integration = _text(label, entry, "integrationType")
    channel = _CHANNELS.get((integration or "SMS").upper())
    if channel is None:
        raise ReportError(
            f"{integration!r} is not a channel peoplesync knows",
            record=label,
            field="integrationType",
        )
    text = _reply_text(label, entry)
    price = _object(label, entry, "price")
    keyword = _text(label, entry, "keyword")
    return InboundMessage(
        message_id=message_id,
        sender=sender.lstrip("+"),
        recipient=recipient.lstrip("+"),
        text=text[:TEXT_LIMIT],
        clean_text=(_text(label, entry, "cleanText") or _clean(text, keyword))[:TEXT_LIMIT],
        keyword=keyword[:100] if keyword else None,
        received_at=_time(label, entry, "receivedAt"),
        channel=channel,
        message_count=_count(label, entry) or 1,
        price=_number(label, price, "pricePerMessage", "price."),
        currency=(_text(label, price, "currency", prefix="price.") or "")[:5] or None,
        callback_data=_text(label, entry, "callbackData"),
    )


def _reply_text(label: str, entry: Mapping[str, Any]) -> str:
    text = entry.get("text")
    if isinstance(text, str):
        return text
    if text is not None:
        raise ReportError("is not a string", record=label, field="text")
    message = _object(label, entry, "message")
    if not message:
        raise ReportError("is missing", record=label, field="text")
    reply = _text(label, message, "text", prefix="message.") or _text(
        label, message, "url", prefix="message."
    )
    if reply is None:
        raise ReportError("has no text or url", record=label, field="message")
    return reply


def _clean(text: str, keyword: str | None) -> str:
    if keyword and text.upper().startswith(keyword.upper()):
        return text[len(keyword) :].lstrip()
    return text
