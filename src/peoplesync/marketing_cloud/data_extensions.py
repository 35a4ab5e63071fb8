"""The data extensions peoplesync deploys into a business unit, as data.

Columns, types and lengths follow the report tables users already know (SMS Delivery Reports,
Omni Reports, Unified URL Tracking), plus Inbound Messages for replies and SampleAudience as
an entry source to start from. Every report extension also gets the callback-data columns:
the fields peoplesync writes into a message's callback data itself (activity, journey,
contact...) are copied into columns of their own, so a decision split can use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FieldType(StrEnum):
    """Marketing Cloud's data extension field types."""

    TEXT = "Text"
    NUMBER = "Number"
    DECIMAL = "Decimal"
    DATE = "Date"
    BOOLEAN = "Boolean"
    EMAIL = "EmailAddress"
    PHONE = "Phone"
    LOCALE = "Locale"


@dataclass(frozen=True)
class Column:
    """One field of a data extension."""

    name: str
    type: FieldType
    length: int | None = None
    nullable: bool = True
    primary_key: bool = False
    default: str | None = None
    scale: int | None = None


@dataclass(frozen=True)
class DataExtension:
    """A data extension: its name, external key and columns in order."""

    name: str
    key: str
    columns: tuple[Column, ...]
    sendable: bool = False

    @property
    def primary_key(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns if column.primary_key)

    def column(self, name: str) -> Column | None:
        """A column by name, compared without case as Marketing Cloud compares them."""
        wanted = name.lower()
        return next((each for each in self.columns if each.name.lower() == wanted), None)


def _text(name: str, length: int = 50, *, nullable: bool = True, key: bool = False) -> Column:
    return Column(name, FieldType.TEXT, length, nullable=nullable and not key, primary_key=key)


def _number(name: str, *, default: str | None = None) -> Column:
    return Column(name, FieldType.NUMBER, default=default)


def _date(name: str, *, key: bool = False) -> Column:
    return Column(name, FieldType.DATE, nullable=not key, primary_key=key)


# Written by peoplesync into every message's callback data, copied to columns of their own.
CALLBACK_COLUMNS: tuple[Column, ...] = (
    _text("ActivityId", 100),
    _text("BulkId", 100),
    _text("JourneyName", 200),
    _text("ContactKey", 254),
    _text("MID", 50),
    _text("VersionId", 100),
    _text("VersionNumber", 20),
    _text("TemplateName", 200),
)

_STATUS_COLUMNS: tuple[Column, ...] = (
    _number("statusGroupId"),
    _text("statusGroupName"),
    _number("statusId"),
    _text("statusName"),
    _text("statusDescription", 100),
    _number("errorGroupId"),
    _text("errorGroupName"),
    _number("errorId"),
    _text("errorName"),
    _text("errorDescription", 1000),
    Column("errorPermanent", FieldType.BOOLEAN),
    _text("callbackData", 4000),
)

SMS_DELIVERY_REPORTS = DataExtension(
    "SMS Delivery Reports",
    "peoplesync_sms_delivery_reports",
    (
        _text("messageId", key=True),
        _number("messageCount", default="1"),
        _text("to"),
        _text("from"),
        Column("pricePerMessage", FieldType.DECIMAL, 18, scale=7),
        _text("priceCurrency", 5),
        *_STATUS_COLUMNS,
        _date("sentAt"),
        _date("doneAt"),
        _text("originalMCC"),
        _text("originalMNC"),
        *CALLBACK_COLUMNS,
    ),
)

OMNI_REPORTS = DataExtension(
    "Omni Reports",
    "peoplesync_omni_reports",
    (
        _text("messageId", key=True),
        _number("messageCount", default="1"),
        _text("to"),
        Column("pricePerMessage", FieldType.DECIMAL, 18, scale=7),
        _text("Currency", 5),
        *_STATUS_COLUMNS,
        _date("sentAt"),
        _date("doneAt"),
        _date("seenAt"),
        _text("from"),
        _text("channel"),
        *CALLBACK_COLUMNS,
    ),
)

UNIFIED_URL_TRACKING = DataExtension(
    "Unified URL Tracking",
    "peoplesync_unified_url_tracking",
    (
        _text("notificationType"),
        _text("messageId", key=True),
        _text("recipient"),
        _text("url", 1000, key=True),
        _date("sendDateTime", key=True),
        _text("deviceType"),
        _text("os"),
        _text("deviceName"),
        _text("callbackData", 4000),
        _text("channel", nullable=False),
        *CALLBACK_COLUMNS,
    ),
)

INBOUND_MESSAGES = DataExtension(
    "Inbound Messages",
    "peoplesync_inbound_messages",
    (
        _text("messageId", key=True),
        _text("from"),
        _text("to"),
        _text("text", 4000),
        _text("keyword"),
        _date("receivedAt"),
        _text("channel"),
        _text("inReplyTo"),
        _text("ContactKey", 254),
        _text("callbackData", 4000),
    ),
)

SAMPLE_AUDIENCE = DataExtension(
    "SampleAudience",
    "peoplesync_sample_audience",
    (
        _text("ContactKey", 254, key=True),
        _text("FirstName"),
        _text("LastName"),
        Column("Mobile", FieldType.PHONE),
        Column("Email", FieldType.EMAIL, 254),
        _text("Locale", 10),
    ),
    sendable=True,
)

DATA_EXTENSIONS: tuple[DataExtension, ...] = (
    SMS_DELIVERY_REPORTS,
    OMNI_REPORTS,
    UNIFIED_URL_TRACKING,
    INBOUND_MESSAGES,
    SAMPLE_AUDIENCE,
)


def missing_columns(wanted: DataExtension, present: set[str]) -> tuple[Column, ...]:
    """Columns of ``wanted`` that a deployed extension lacks (names compared without case)."""
    have = {name.lower() for name in present}
    return tuple(column for column in wanted.columns if column.name.lower() not in have)
