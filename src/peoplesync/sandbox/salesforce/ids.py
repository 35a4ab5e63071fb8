"""Salesforce record ids: key prefixes, 15 -> 18 character checksum, and a generator."""

from __future__ import annotations

import itertools
import threading

KEY_PREFIXES: dict[str, str] = {
    "Account": "001",
    "Contact": "003",
    "User": "005",
    "Opportunity": "006",
    "Lead": "00Q",
    "Task": "00T",
    "Event": "00U",
    "Campaign": "701",
    "CampaignMember": "00v",
    "Organization": "00D",
    "Profile": "00e",
    "Group": "00G",
    "RecordType": "012",
    "BulkJob": "750",
    "BulkBatch": "751",
    "BulkResult": "752",
    "QueryLocator": "01g",
}

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_POD = "8d"  # characters 4-5 of every id this org issues


_UPPER_BITS = str.maketrans({c: ("1" if "A" <= c <= "Z" else "0") for c in _BASE62})


def checksum(id15: str) -> str:
    """The 3-character case-insensitive suffix that turns a 15-character id into 18."""
    if len(id15) != 15:
        raise ValueError("a 15-character id is needed")
    bits = id15.translate(_UPPER_BITS)  # "1" for an upper-case letter, "0" for the rest
    if bits.strip("01"):
        bits = "".join("1" if "A" <= c <= "Z" else "0" for c in id15)
    # Bit i of a chunk is its i-th character: read each chunk's 5 bits right to left.
    return "".join(_CHECKSUM_ALPHABET[int(bits[k : k + 5][::-1], 2)] for k in (0, 5, 10))


def to18(record_id: str) -> str:
    """Normalise a 15- or 18-character id to its 18-character form."""
    if len(record_id) == 18:
        return record_id[:15] + checksum(record_id[:15])
    if len(record_id) == 15:
        return record_id + checksum(record_id)
    raise ValueError(f"not a Salesforce id: {record_id!r}")


def is_valid_id(value: str) -> bool:
    """True for a well-formed 15-character id or an 18-character id whose checksum matches."""
    if len(value) not in (15, 18) or value[:15].strip(_BASE62):
        return False
    return len(value) == 15 or value[15:].upper() == checksum(value[:15])


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rem = divmod(number, 62)
        digits.append(_BASE62[rem])
    if number:
        raise OverflowError("id counter exhausted")
    return "".join(reversed(digits))


class IdGenerator:
    """Issues unique 18-character ids per key prefix from a persistent counter start."""

    def __init__(self, start: int = 1) -> None:
        self._counter = itertools.count(start)
        self._lock = threading.Lock()

    def next_id(self, prefix: str) -> str:
        """A new id with ``prefix`` (3 characters, e.g. ``00Q``)."""
        with self._lock:
            number = next(self._counter)
        id15 = prefix + _POD + "0" + _base62(number, 9)
        return id15 + checksum(id15)

    def peek(self) -> int:
        """The counter value the next id will use (persist it to resume after restart)."""
        with self._lock:
            value = next(self._counter)
            self._counter = itertools.count(value)
            return value
