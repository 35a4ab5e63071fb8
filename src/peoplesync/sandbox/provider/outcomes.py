"""What happens to a message, decided by its recipient's number. Pure and documented.

| number ends in | at send                        | final report                                   |
|----------------|--------------------------------|------------------------------------------------|
| 00             | REJECTED_DESTINATION (5/52)    | REJECTED_DESTINATION                           |
| 91             | PENDING_ACCEPTED               | UNDELIVERABLE_NOT_DELIVERED, EC_UNKNOWN_SUBSCRIBER (permanent) |
| 92             | PENDING_ACCEPTED               | EXPIRED_EXPIRED, EC_ABSENT_SUBSCRIBER          |
| 93             | PENDING_ACCEPTED               | REJECTED_NETWORK, EC_CONTENT_BLOCKED (opt-out) |
| 94             | PENDING_ACCEPTED               | stays pending; EXPIRED_EXPIRED at expiry       |
| anything else  | PENDING_ACCEPTED               | DELIVERED_TO_HANDSET (then SEEN on Viber/RCS/WhatsApp) |

Channels other than SMS, LMS and MMS start as PENDING_ENROUTE (7) instead of PENDING_ACCEPTED.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Status:
    group_id: int
    group_name: str
    id: int
    name: str
    description: str

    def as_json(self) -> dict[str, object]:
        return {
            "groupId": self.group_id,
            "groupName": self.group_name,
            "id": self.id,
            "name": self.name,
            "description": self.description,
        }


@dataclass(frozen=True)
class ErrorInfo:
    group_id: int
    group_name: str
    id: int
    name: str
    description: str
    permanent: bool

    def as_json(self) -> dict[str, object]:
        return {
            "groupId": self.group_id,
            "groupName": self.group_name,
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "permanent": self.permanent,
        }


PENDING_ACCEPTED = Status(1, "PENDING", 26, "PENDING_ACCEPTED", "Message sent to next instance")
PENDING_ENROUTE = Status(1, "PENDING", 7, "PENDING_ENROUTE", "Message sent to next instance")
DELIVERED = Status(3, "DELIVERED", 5, "DELIVERED_TO_HANDSET", "Message delivered to handset")
UNDELIVERABLE = Status(
    2, "UNDELIVERABLE", 9, "UNDELIVERABLE_NOT_DELIVERED", "Message sent not delivered"
)
EXPIRED = Status(4, "EXPIRED", 15, "EXPIRED_EXPIRED", "Message expired")
REJECTED_NETWORK = Status(5, "REJECTED", 6, "REJECTED_NETWORK", "Network is forbidden")
REJECTED_DESTINATION = Status(
    5, "REJECTED", 52, "REJECTED_DESTINATION", "Invalid destination address"
)
REJECTED_DUPLICATE = Status(
    5, "REJECTED", 23, "REJECTED_DUPLICATE_MESSAGE_ID", "Duplicate message id"
)

NO_ERROR = ErrorInfo(0, "OK", 0, "NO_ERROR", "No Error", False)
UNKNOWN_SUBSCRIBER = ErrorInfo(
    1, "HANDSET_ERRORS", 1, "EC_UNKNOWN_SUBSCRIBER", "Unknown Subscriber", True
)
ABSENT_SUBSCRIBER = ErrorInfo(
    1, "HANDSET_ERRORS", 27, "EC_ABSENT_SUBSCRIBER", "Absent Subscriber", False
)
CONTENT_BLOCKED = ErrorInfo(2, "USER_ERRORS", 603, "EC_CONTENT_BLOCKED", "Content blocked", True)

_SEEN_CHANNELS = frozenset({"viber", "rcs", "whatsapp"})
_SMS_FAMILY = frozenset({"sms", "mms"})


@dataclass(frozen=True)
class Fate:
    """A message's course: its status at send, and its final report (if any)."""

    at_send: Status
    final: Status | None
    error: ErrorInfo
    pending_until_expiry: bool = False
    seen: bool = False


def fate_of(to: str, channel: str) -> Fate:
    """The outcome table above, for one recipient on one channel."""
    first = PENDING_ACCEPTED if channel in _SMS_FAMILY else PENDING_ENROUTE
    suffix = to[-2:]
    if suffix == "00":
        return Fate(REJECTED_DESTINATION, REJECTED_DESTINATION, NO_ERROR)
    if suffix == "91":
        return Fate(first, UNDELIVERABLE, UNKNOWN_SUBSCRIBER)
    if suffix == "92":
        return Fate(first, EXPIRED, ABSENT_SUBSCRIBER)
    if suffix == "93":
        return Fate(first, REJECTED_NETWORK, CONTENT_BLOCKED)
    if suffix == "94":
        return Fate(first, EXPIRED, ABSENT_SUBSCRIBER, pending_until_expiry=True)
    return Fate(first, DELIVERED, NO_ERROR, seen=channel in _SEEN_CHANNELS)
