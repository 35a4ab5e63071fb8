"""Click reports from a provider that shortened and tracked a message's URLs itself. Pure.

Infobip posts one ``UrlTrackingWebhook`` object a click (``notificationType``, ``messageId``,
``recipient``, ``url``, ``sendDateTime`` in epoch milliseconds, ``recipientInfo``); a list of
them, or ``{"results": [...]}``, is read too. A bad entry becomes a ``ReportError`` naming the
entry and the field; the good ones are kept. ``key`` is the same for the same click posted
again (a provider retrying a report whose answer it missed), so a retry is stored once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from peoplesync.messaging.links.devices import BOT, DESKTOP, MOBILE, TABLET, UNKNOWN, Device
from peoplesync.messaging.reports import Parsed, ReportError

FIELD_LIMIT = 50  # deviceType, os and deviceName columns
_KINDS = {
    "phone": MOBILE,
    "mobile": MOBILE,
    "smartphone": MOBILE,
    "tablet": TABLET,
    "desktop": DESKTOP,
    "computer": DESKTOP,
    "pc": DESKTOP,
    "bot": BOT,
    "spider": BOT,
    "crawler": BOT,
}


@dataclass(frozen=True)
class ClickReport:
    """One click the provider saw, in our click's terms."""

    key: str  # the same click posted again has the same key
    message_id: str
    recipient: str | None
    url: str
    clicked_at: datetime
    device: Device
    notification_type: str = "CLICKED"
    bulk_id: str | None = None
    callback_data: str | None = None


def device_type(given: str | None) -> str:
    """The provider's ``deviceType`` (``Phone``, ``Tablet``, ...) as ours (``mobile``, ...)."""
    return _KINDS.get((given or "").strip().lower(), UNKNOWN)


def parse_click_reports(body: object) -> Parsed[ClickReport]:
    out: Parsed[ClickReport] = Parsed()
    if isinstance(body, Mapping) and isinstance(body.get("results"), list):
        entries: list[Any] = body["results"]
    elif isinstance(body, list):
        entries = body
    elif isinstance(body, Mapping):
        entries = [body]
    else:
        out.errors.append(
            ReportError("is not a click report object", record="click report", field="body")
        )
        return out
    for index, entry in enumerate(entries):
        label = f"click report {index}"
        try:
            out.reports.append(_click(label, entry))
        except ReportError as exc:
            out.errors.append(exc)
    return out


def _click(label: str, entry: object) -> ClickReport:
    if not isinstance(entry, Mapping):
        raise ReportError("is not an object", record=label)
    message_id = _text(label, entry, "messageId", required=True)
    label = f"{label} (message {message_id[:64]})"
    url = _text(label, entry, "url", required=True)
    millis = entry.get("sendDateTime")
    if isinstance(millis, bool) or not isinstance(millis, int):
        raise ReportError("is not a time in epoch milliseconds", record=label, field="sendDateTime")
    try:
        clicked_at = datetime.fromtimestamp(millis / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        raise ReportError("is out of range", record=label, field="sendDateTime") from None
    info = entry.get("recipientInfo")
    if info is not None and not isinstance(info, Mapping):
        raise ReportError("is not an object", record=label, field="recipientInfo")
    info = info or {}
    kind = _text(label, info, "deviceType", prefix="recipientInfo.") or None
    os = _text(label, info, "os", prefix="recipientInfo.") or None
    name = _text(label, info, "deviceName", prefix="recipientInfo.") or None
    notification = _text(label, entry, "notificationType") or "CLICKED"
    recipient = _text(label, entry, "recipient") or None
    key = hashlib.sha256(
        "\x1f".join((message_id, url, str(millis), notification)).encode()
    ).hexdigest()[:40]
    return ClickReport(
        key=key,
        message_id=message_id[:64],
        recipient=recipient[:50] if recipient else None,
        url=url,
        clicked_at=clicked_at,
        device=Device(
            device_type(kind),
            os[:FIELD_LIMIT] if os else None,
            name[:FIELD_LIMIT] if name else None,
        ),
        notification_type=notification[:50],
        bulk_id=_text(label, entry, "bulkId") or None,
        callback_data=_text(label, entry, "callbackData") or None,
    )


def _text(
    label: str, entry: Mapping[str, Any], name: str, *, required: bool = False, prefix: str = ""
) -> str:
    value = entry.get(name)
    if value is None or value == "":
        if required:
            raise ReportError("is missing", record=label, field=prefix + name)
        return ""
    if not isinstance(value, str):
        raise ReportError("is not a string", record=label, field=prefix + name)
    return value
