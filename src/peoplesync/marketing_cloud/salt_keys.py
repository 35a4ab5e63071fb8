"""A business unit's Key Management salt keys, each under the external key (``customerKey``)
an activity's ``config.json`` names it by.

All of a unit's salt keys are sealed together in one value: a JSON document
``{"salt_keys": {"<customerKey>": "0x..."}}``. A unit stored before keys had names holds one
key's text there instead; it is read as the unnamed key (``""``), which, like the package's
JWT secret, verifies calls that name no ``customerKey``. A named key verifies only the calls
that name it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from peoplesync.errors import RecordError, SettingError
from peoplesync.marketing_cloud.signed_body import key_bytes

UNNAMED = ""
# Key Management external keys: letters, digits, dashes, underscores and dots (URL-safe, as
# the name travels in the activity's URLs as ?customerKey=...).
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")
_DOCUMENT = "salt_keys"


def opened(text: str | None) -> dict[str, str]:
    """The keys by name from their opened (unsealed) text; ``{}`` when none is stored."""
    if not text:
        return {}
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get(_DOCUMENT), dict):
        return {str(name): str(key) for name, key in document[_DOCUMENT].items()}
    return {UNNAMED: text}  # one key, stored before keys had names


def to_text(keys: Mapping[str, str]) -> str | None:
    """The text to seal for ``keys`` (``None``: nothing to store)."""
    if not keys:
        return None
    return json.dumps({_DOCUMENT: dict(sorted(keys.items()))}, separators=(",", ":"))


def named_problem(name: str | None, key: str | None) -> SettingError | None:
    """What is wrong with a salt key entered under ``name`` (``None``/empty: the unnamed
    one), or None. The key's value never appears in the message."""
    if name and not NAME.match(name):
        return SettingError(
            f"salt key name {name[:60]!r} is not a usable customerKey",
            hint="use the key's External Key from Key Management: letters, digits, '-', '_' "
            "and '.', at most 200",
            field="salt_key_name",
        )
    if name and not key:
        return SettingError(
            f"the salt key {name!r} has no value",
            hint="enter the key as Key Management shows it (0x followed by hex digits)",
            field="salt_key",
        )
    if key:
        try:  # a malformed hex salt is refused now, not at the first call
            key_bytes(key)
        except RecordError as error:
            return SettingError(error.detail, hint=error.hint, field="salt_key")
    return None


def signing_bytes(keys: Mapping[str, str]) -> dict[str, bytes]:
    """Each key's signing bytes by name."""
    return {name: key_bytes(key) for name, key in keys.items()}
