"""One click on a tracked link, as the "Unified URL Tracking" report has it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from peoplesync.messaging.links.devices import Device


@dataclass(frozen=True)
class Click:
    """One click, with the columns of the "Unified URL Tracking" data extension."""

    message_id: str
    recipient: str | None
    url: str
    clicked_at: datetime
    device: Device
    callback_data: str | None
    channel: str | None
    notification_type: str = "CLICKED"

    def as_report(self) -> dict[str, Any]:
        """The data extension's row: its attribute names, lengths and epoch-free time."""
        return {
            "notificationType": self.notification_type,
            "messageId": self.message_id,
            "recipient": (self.recipient or None) and self.recipient[:50],
            "url": self.url[:1000],
            "sendDateTime": self.clicked_at.isoformat(),
            "deviceType": self.device.device_type,
            "os": self.device.os,
            "deviceName": self.device.device_name,
            "callbackData": self.callback_data[:4000] if self.callback_data else None,
            "channel": self.channel,
        }
