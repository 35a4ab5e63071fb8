"""Delivery and seen reports from a provider: parsed into typed records. Pure.

A report payload is ``{"results": [...]}``. Delivery entries are accepted in Infobip's v3
form (``sender``, ``messageCount``) and its v2 form (``from``, ``smsCount``). Parsing never
raises: a bad entry becomes a ``ReportError`` naming the entry and the field, and the good
entries of the same payload are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from peoplesync.errors import ValidationError

DELIVERED, UNDELIVERABLE, EXPIRED, REJECTED, SEEN = (
    "delivered",
    "undeliverable",
    "expired",
    "rejected",
    "seen",
)
FINAL_STATES = (DELIVERED, UNDELIVERABLE, EXPIRED, REJECTED)
_STATE_OF_GROUP = {
    "DELIVERED": DELIVERED,
    "UNDELIVERABLE": UNDELIVERABLE,
    "EXPIRED": EXPIRED,
    "REJECTED": REJECTED,
}
# Not an outcome: the operator took it, the handset has not (yet) confirmed.
_INTERMEDIATE = frozenset({"DELIVERED_TO_OPERATOR"})
T = TypeVar("T")
_HINT = "the provider sent a report peoplesync cannot read; check the provider's webhook format"


class ReportError(ValidationError):
    """One entry of a report payload cannot be read."""

    code = "INVALID_REPORT"
    hint = _HINT


@dataclass(frozen=True)
class DeliveryReport:
    """One message's delivery outcome (or an intermediate PENDING/ACCEPTED status)."""

    message_id: str
    to: str
    status_group: str
    status_name: str
    status_description: str = ""
    error_name: str | None = None
    error_description: str = ""
    error_permanent: bool | None = None
    sender: str | None = None
    sent_at: datetime | None = None
    done_at: datetime | None = None
    price: float | None = None
    currency: str | None = None
    parts: int | None = None
    bulk_id: str | None = None
    callback_data: str | None = None
    status_group_id: int | None = None
    status_id: int | None = None
    error_group_id: int | None = None
    error_group_name: str | None = None
    error_id: int | None = None
    mcc_mnc: str | None = None  # v2's ``mccMnc``: the network the number belongs to

    @property
    def state(self) -> str | None:
        """Our message state for this report; None when it changes nothing."""
        if self.status_name in _INTERMEDIATE:
            return None
        return _STATE_OF_GROUP.get(self.status_group)


@dataclass(frozen=True)
class SeenReport:
    """A recipient opened the message (Viber, RCS, WhatsApp)."""

    message_id: str
    to: str
    seen_at: datetime
    sent_at: datetime | None = None
    sender: str | None = None


@dataclass(frozen=True)
class Parsed(Generic[T]):
    """The readable entries of one payload, and an error for each unreadable one."""

    reports: list[T] = field(default_factory=list)
    errors: list[ReportError] = field(default_factory=list)


def parse_each(body: object, read: Callable[[str, Mapping[str, Any]], T]) -> Parsed[T]:
    """``read`` applied to each entry of ``{"results": [...]}``; a ``ReportError`` it raises
    is kept with the entry's label and the next entry is read."""
    out: Parsed[T] = Parsed()
    for label, entry in _entries(body, out.errors):
        try:
            out.reports.append(read(label, entry))
        except ReportError as exc:
            out.errors.append(exc)
    return out


def parse_delivery_reports(body: object) -> Parsed[DeliveryReport]:
    return parse_each(body, _delivery)


def parse_seen_reports(body: object) -> Parsed[SeenReport]:
    return parse_each(body, _seen)


def _seen(label: str, entry: Mapping[str, Any]) -> SeenReport:
    seen_at = _time(label, entry, "seenAt")
    if seen_at is None:
        raise ReportError("is missing", record=label, field="seenAt")
    return SeenReport(
        message_id=_text(label, entry, "messageId", required=True) or "",
        to=_text(label, entry, "to") or "",
        seen_at=seen_at,
        sent_at=_time(label, entry, "sentAt"),
        sender=_text(label, entry, "from") or _text(label, entry, "sender"),
    )


def _entries(body: object, errors: list[ReportError]) -> list[tuple[str, Mapping[str, Any]]]:
    if not isinstance(body, Mapping) or not isinstance(body.get("results"), list):
        errors.append(
            ReportError('is not {"results": [...]}', record="report payload", field="results")
        )
        return []
    entries: list[tuple[str, Mapping[str, Any]]] = []
    for index, entry in enumerate(body["results"]):
        label = f"results[{index}]"
        if not isinstance(entry, Mapping):
            errors.append(ReportError("is not an object", record=label))
            continue
        message_id = entry.get("messageId")
        if isinstance(message_id, str) and message_id:
            label += f" (message {message_id[:64]})"
        entries.append((label, entry))
    return entries


def _delivery(label: str, entry: Mapping[str, Any]) -> DeliveryReport:
    message_id = _text(label, entry, "messageId", required=True) or ""
    status = _object(label, entry, "status", required=True)
    group = _text(label, status, "groupName", required=True, prefix="status.") or ""
    error = _object(label, entry, "error")
    price = _object(label, entry, "price")
    permanent = error.get("permanent")
    if permanent is not None and not isinstance(permanent, bool):
        raise ReportError("is not true or false", record=label, field="error.permanent")
    return DeliveryReport(
        message_id=message_id,
        to=_text(label, entry, "to") or "",
        status_group=group.upper(),
        status_name=_text(label, status, "name", prefix="status.") or group.upper(),
        status_description=_text(label, status, "description", prefix="status.") or "",
        error_name=_text(label, error, "name", prefix="error."),
        error_description=_text(label, error, "description", prefix="error.") or "",
        error_permanent=permanent,
        sender=_text(label, entry, "sender") or _text(label, entry, "from"),
        sent_at=_time(label, entry, "sentAt"),
        done_at=_time(label, entry, "doneAt"),
        price=_number(label, price, "pricePerMessage", "price."),
        currency=_text(label, price, "currency", prefix="price."),
        parts=_count(label, entry),
        bulk_id=_text(label, entry, "bulkId"),
        callback_data=_text(label, entry, "callbackData"),
        status_group_id=_whole(label, status, "groupId", "status."),
        status_id=_whole(label, status, "id", "status."),
        error_group_id=_whole(label, error, "groupId", "error."),
        error_group_name=_text(label, error, "groupName", prefix="error."),
        error_id=_whole(label, error, "id", "error."),
        mcc_mnc=_text(label, entry, "mccMnc"),
    )


def _whole(label: str, entry: Mapping[str, Any], name: str, prefix: str) -> int | None:
    value = entry.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
        raise ReportError("is not a whole number", record=label, field=prefix + name)
    return value


def _text(
    label: str, entry: Mapping[str, Any], name: str, *, required: bool = False, prefix: str = ""
) -> str | None:
    value = entry.get(name)
    if value is None or value == "":
        if required:
            raise ReportError("is missing", record=label, field=prefix + name)
        return None
    if not isinstance(value, str):
        raise ReportError("is not a string", record=label, field=prefix + name)
    return value


def _object(
    label: str, entry: Mapping[str, Any], name: str, *, required: bool = False
) -> Mapping[str, Any]:
    value = entry.get(name)
    if value is None:
        if required:
            raise ReportError("is missing", record=label, field=name)
        return {}
    if not isinstance(value, Mapping):
        raise ReportError("is not an object", record=label, field=name)
    return value


def _number(label: str, entry: Mapping[str, Any], name: str, prefix: str) -> float | None:
    value = entry.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ReportError("is not a number", record=label, field=prefix + name)
    try:
        return float(value)
    except OverflowError:
        raise ReportError("is out of range", record=label, field=prefix + name) from None


def _count(label: str, entry: Mapping[str, Any]) -> int | None:
    for name in ("messageCount", "smsCount"):
        value = entry.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ReportError("is not a whole number", record=label, field=name)
        return value
    return None


def _time(label: str, entry: Mapping[str, Any], name: str) -> datetime | None:
    value = _text(label, entry, name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ReportError(
            f"{value[:40]!r} is not a time like 2019-11-09T16:00:00.000+0000",
            record=label,
            field=name,
        ) from None
