"""How an SMS text is encoded and cut into parts: GSM-7 (with national shift tables) or UCS-2.

Pure functions. ``plan_sms`` picks the cheapest encoding the text allows (fewest parts, then
fewest units), the way a provider bills it: the default GSM alphabet, then, when a national
language is asked for (or autodetected), its single-shift, locking-shift or both tables, and
UCS-2 when no GSM alphabet holds every character. A part never ends inside an escape sequence
or a surrogate pair.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from peoplesync.messaging.channels.gsm_tables import (
    DEFAULT_ALPHABET,
    DEFAULT_EXTENSION,
    ESCAPE,
    LOCKING_SHIFT,
    SINGLE_SHIFT,
    NationalLanguage,
    reverse,
)

SEPTETS_PER_MESSAGE = 160  # 140 octets of user data
UCS2_UNITS_SINGLE = 70
UCS2_UNITS_PART = 67
_OCTET_BITS = 8
_SEPTET_BITS = 7
_CONCATENATION_HEADER = 5  # IEI, length, reference, total, sequence
_SHIFT_HEADER = 3  # IEI, length, language


class Scheme(StrEnum):
    """The data coding of an SMS."""

    GSM7 = "GSM7"
    UCS2 = "UCS2"


AUTODETECT = "AUTODETECT"


@dataclass(frozen=True)
class Alphabet:
    """One GSM-7 alphabet: the default tables, or a national language's shift tables."""

    language: NationalLanguage | None = None
    single_shift: bool = False
    locking_shift: bool = False

    @property
    def basic(self) -> Mapping[str, int]:
        if self.locking_shift and self.language is not None:
            return LOCKING_SHIFT[self.language]
        return DEFAULT_ALPHABET

    @property
    def extension(self) -> Mapping[str, int]:
        if self.single_shift and self.language is not None:
            return SINGLE_SHIFT[self.language]
        return DEFAULT_EXTENSION

    @property
    def shift_headers(self) -> int:
        """How many national-language header elements every part carries."""
        return int(self.single_shift) + int(self.locking_shift)

    def cost(self, char: str) -> int | None:
        """Septets one character takes (2 through the escape), or None if it has no code."""
        if char in self.basic:
            return 1
        if char in self.extension:
            return 2
        return None

    def capacity(self, *, concatenated: bool) -> int:
        """Septets of text one part holds once its user-data header is paid for."""
        header = _SHIFT_HEADER * self.shift_headers
        if concatenated:
            header += _CONCATENATION_HEADER
        if header == 0:
            return SEPTETS_PER_MESSAGE
        header_bits = (header + 1) * _OCTET_BITS  # +1: the header length octet
        return SEPTETS_PER_MESSAGE - math.ceil(header_bits / _SEPTET_BITS)


DEFAULT = Alphabet()


@dataclass(frozen=True)
class SmsPlan:
    """An SMS text as it will travel: its encoding, its size and its parts."""

    text: str
    scheme: Scheme
    alphabet: Alphabet | None
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    parts: tuple[str, ...]

    @property
    def part_count(self) -> int:
        return len(self.parts)

    @property
    def capacity(self) -> int:
        """Units the message holds before it needs one more part."""
        if self.scheme is Scheme.UCS2:
            single, part = UCS2_UNITS_SINGLE, UCS2_UNITS_PART
        else:
            assert self.alphabet is not None
            single = self.alphabet.capacity(concatenated=False)
            part = self.alphabet.capacity(concatenated=True)
        return single if self.part_count <= 1 else part * self.part_count

    @property
    def remaining(self) -> int:
        """Units still free in the last part (roughly what a counter under a text box shows)."""
        return max(self.capacity - self.units, 0)


def candidate_alphabets(language: NationalLanguage | str | None) -> tuple[Alphabet, ...]:
    """The GSM-7 alphabets worth trying for a language code (TR, ES, PT, AUTODETECT or none)."""
    if language is None or language == "":
        return (DEFAULT,)
    auto = language == AUTODETECT
    languages = tuple(NationalLanguage) if auto else (NationalLanguage(language),)
    found = [DEFAULT]
    for each in languages:
        single = each in SINGLE_SHIFT
        locking = each in LOCKING_SHIFT
        if single:
            found.append(Alphabet(each, single_shift=True))
        if locking:
            found.append(Alphabet(each, locking_shift=True))
        if single and locking:
            found.append(Alphabet(each, single_shift=True, locking_shift=True))
    return tuple(found)


def plan_sms(text: str, language: NationalLanguage | str | None = None) -> SmsPlan:
    """Choose the cheapest encoding for ``text`` and cut it into parts.

    ``language`` is a national language code (``TR``, ``ES``, ``PT``), ``AUTODETECT`` to
    try them all, or None for the default GSM alphabet only. An unknown code raises
    ``ValueError``.
    """
    best: SmsPlan | None = None
    for alphabet in candidate_alphabets(language):
        plan = _gsm_plan(text, alphabet)
        if plan is not None and (
            best is None or (plan.part_count, plan.units) < (best.part_count, best.units)
        ):
            best = plan
    return best if best is not None else _ucs2_plan(text)


def septet_costs(text: str, alphabet: Alphabet) -> list[int] | None:
    """Each character's septet cost, or None when the alphabet lacks a character."""
    basic, extension = alphabet.basic, alphabet.extension  # looked up once, not per character
    costs: list[int] = []
    for char in text:
        if char in basic:
            costs.append(1)
        elif char in extension:
            costs.append(2)
        else:
            return None
    return costs


def encode_septets(text: str, alphabet: Alphabet) -> bytes:
    """One septet a byte, escapes included; ``ValueError`` names the first missing character."""
    out = bytearray()
    for position, char in enumerate(text):
        if char in alphabet.basic:
            out.append(alphabet.basic[char])
        elif char in alphabet.extension:
            out += bytes((ESCAPE, alphabet.extension[char]))
        else:
            raise ValueError(f"character {char!r} at position {position} has no GSM-7 code")
    return bytes(out)


def decode_septets(data: bytes, alphabet: Alphabet) -> str:
    """The inverse of ``encode_septets``."""
    basic = reverse(alphabet.basic)
    extension = reverse(alphabet.extension)
    chars: list[str] = []
    escaped = False
    for septet in data:
        if escaped:
            chars.append(extension[septet])
            escaped = False
        elif septet == ESCAPE:
            escaped = True
        else:
            chars.append(basic[septet])
    if escaped:
        raise ValueError("septets end with a dangling escape")
    return "".join(chars)


def utf16_units(text: str) -> int:
    """UTF-16 code units: a character outside the Basic Multilingual Plane takes two."""
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def _gsm_plan(text: str, alphabet: Alphabet) -> SmsPlan | None:
    costs = septet_costs(text, alphabet)
    if costs is None:
        return None
    units = sum(costs)
    if units <= alphabet.capacity(concatenated=False):
        parts: tuple[str, ...] = (text,) if text else ()
    else:
        parts = tuple(_cut(text, costs, alphabet.capacity(concatenated=True)))
    return SmsPlan(text, Scheme.GSM7, alphabet, units, parts)


def _ucs2_plan(text: str) -> SmsPlan:
    costs = [2 if ord(char) > 0xFFFF else 1 for char in text]
    units = sum(costs)
    if units <= UCS2_UNITS_SINGLE:
        parts: tuple[str, ...] = (text,) if text else ()
    else:
        parts = tuple(_cut(text, costs, UCS2_UNITS_PART))
    return SmsPlan(text, Scheme.UCS2, None, units, parts)


def _cut(text: str, costs: list[int], capacity: int) -> Iterator[str]:
    """Fill each part greedily; a character's units never straddle two parts."""
    start = 0
    used = 0
    for index, cost in enumerate(costs):
        if used + cost > capacity:
            yield text[start:index]
            start, used = index, 0
        used += cost
    yield text[start:]
