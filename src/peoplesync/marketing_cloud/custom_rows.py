"""The Message activity's *custom data extension* (journeys that start from an API Event).

Without it, a call carries the entry data Journey Builder resolved. With it, peoplesync reads
the contact's row from the chosen data extension when the call comes and sends with that row:
the phone from the row's phone fields (the first with a value), and ``%%Field%%`` in the
message's text fields replaced by the row's values. Useful when a journey updates the row
after the contact entered. Here: what to read and how the row changes the call (pure); the
read itself is ``custom_row_reader``.

In-arguments: ``customDataExtension`` (the data extension's external key),
``customKeyField`` (the field holding the contact key, default ``ContactKey``) and
``customPhoneFields`` (field names, comma-separated).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from peoplesync.marketing_cloud.execute import ExecuteCall
from peoplesync.messaging.channels.message_status import MessageStatus
from peoplesync.messaging.channels.verdict import Verdict

EXTENSION = "customDataExtension"
KEY_FIELD = "customKeyField"
PHONE_FIELDS = "customPhoneFields"
DEFAULT_KEY_FIELD = "ContactKey"
_MERGE = re.compile(r"%%([A-Za-z0-9_ .-]{1,128})%%")
_NAME = re.compile(r"^[A-Za-z0-9_ .-]{1,128}$")
# The request fields a row's values may be merged into.
_TEXT_FIELDS = ("text", "title", "caption", "buttonText", "imageUrl", "mediaUrl")


@dataclass(frozen=True)
class RowQuery:
    """Which row to read: the extension's key and the ``$filter`` that finds the contact."""

    extension: str
    key_field: str
    contact_key: str

    @property
    def where(self) -> str:
        return f"{self.key_field} eq '{self.contact_key.replace(chr(39), chr(39) * 2)}'"


def row_query(call: ExecuteCall) -> RowQuery | Verdict | None:
    """None when the activity reads no custom extension; a Verdict for a bad setting."""
    extension = str(call.arguments.get(EXTENSION) or "").strip()
    if not extension:
        return None
    key_field = str(call.arguments.get(KEY_FIELD) or DEFAULT_KEY_FIELD).strip()
    for name, value in ((EXTENSION, extension), (KEY_FIELD, key_field)):
        if not _NAME.match(value):
            return Verdict(
                MessageStatus.CUSTOM_EXTENSION_UNAVAILABLE,
                name,
                f"{value!r} is not a data extension or field name",
            )
    if not call.contact_key:
        return Verdict(
            MessageStatus.CUSTOM_ROW_MISSING, "contactKey", "the call carries no contact key"
        )
    return RowQuery(extension, key_field, call.contact_key)


def apply_row(call: ExecuteCall, row: Mapping[str, Any] | None) -> ExecuteCall | Verdict:
    """The call as the row makes it: phones from the row, ``%%Field%%`` merged."""
    if row is None:
        return Verdict(
            MessageStatus.CUSTOM_ROW_MISSING,
            EXTENSION,
            f"no row for contact {call.contact_key!r} in {call.arguments.get(EXTENSION)!r}",
        )
    values = {str(name).lower(): value for name, value in row.items()}
    names = [n.strip() for n in str(call.arguments.get(PHONE_FIELDS) or "").split(",")]
    phones = tuple(_text(values.get(n.lower())) for n in names if n)
    arguments = dict(call.arguments)
    for name in _TEXT_FIELDS:
        value = arguments.get(name)
        if not isinstance(value, str) or "%%" not in value:
            continue
        missing = [m for m in _MERGE.findall(value) if m.lower() not in values]
        if missing:
            return Verdict(
                MessageStatus.INVALID_PLACEHOLDERS,
                name,
                f"%%{missing[0]}%% is not a field of {call.arguments.get(EXTENSION)!r}",
            )
        arguments[name] = _MERGE.sub(lambda m: _text(values[m.group(1).lower()]), value)
    return replace(call, arguments=arguments, phones=phones or call.phones)


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()
