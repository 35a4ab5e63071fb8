"""The GSM 7-bit alphabets of 3GPP TS 23.038: default, extension and national shift tables.

A locking-shift table maps all 128 septets; a single-shift table maps the septets that follow
an escape (0x1B). Only the national tables SMS providers accept for European traffic are here:
Turkish (locking and single), Spanish (single only) and Portuguese (locking and single).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

ESCAPE = 0x1B


class NationalLanguage(StrEnum):
    """A national language with shift tables, by the code providers use."""

    TURKISH = "TR"
    SPANISH = "ES"
    PORTUGUESE = "PT"


def _locking(rows: str) -> Mapping[str, int]:
    """Index a 128-character table; the escape position holds no character."""
    if len(rows) != 128:
        raise ValueError(f"a locking-shift table has 128 positions, got {len(rows)}")
    return MappingProxyType({char: code for code, char in enumerate(rows) if code != ESCAPE})


def _single(pairs: Mapping[int, str]) -> Mapping[str, int]:
    return MappingProxyType({char: code for code, char in pairs.items()})


# Default alphabet, 0x00-0x7F (0x1B is the escape to the extension table).
_DEFAULT = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)

# Turkish locking shift (A.3.1): ğ, Ğ, ı, İ, ş, Ş, ç and € take the places of accented letters.
_TURKISH_LOCKING = (
    "@£$¥€éùıòÇ\nĞğ\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bŞşßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "İABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "çabcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)

# Portuguese locking shift (A.3.3).
_PORTUGUESE_LOCKING = (
    "@£$¥êéúíóç\nÔô\rÁá"
    "Δ_ªÇÀ∞^\\€Ó|\x1bÂâÊÉ"
    " !\"#º%&'()*+,-./"
    "0123456789:;<=>?"
    "ÍABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÃÕÚÜ§"
    "~abcdefghijklmno"
    "pqrstuvwxyzãõ`üà"
)

_DEFAULT_EXTENSION = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

# Turkish single shift (A.2.1).
_TURKISH_SINGLE = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x47: "Ğ",
    0x49: "İ",
    0x53: "Ş",
    0x63: "ç",
    0x65: "€",
    0x67: "ğ",
    0x69: "ı",
    0x73: "ş",
}

# Spanish single shift (A.2.2); Spanish has no locking-shift table.
_SPANISH_SINGLE = {
    0x09: "ç",
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x41: "Á",
    0x49: "Í",
    0x4F: "Ó",
    0x55: "Ú",
    0x61: "á",
    0x65: "€",
    0x69: "í",
    0x6F: "ó",
    0x75: "ú",
}

# Portuguese single shift (A.2.3).
_PORTUGUESE_SINGLE = {
    0x05: "ê",
    0x09: "ç",
    0x0A: "\f",
    0x0B: "Ô",
    0x0C: "ô",
    0x0E: "Á",
    0x0F: "á",
    0x12: "Φ",
    0x13: "Γ",
    0x14: "^",
    0x15: "Ω",
    0x16: "Π",
    0x17: "Ψ",
    0x18: "Σ",
    0x19: "Θ",
    0x1F: "Ê",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x41: "À",
    0x49: "Í",
    0x4F: "Ó",
    0x55: "Ú",
    0x5B: "Ã",
    0x5C: "Õ",
    0x61: "Â",
    0x65: "€",
    0x69: "í",
    0x6F: "ó",
    0x75: "ú",
    0x7B: "ã",
    0x7C: "õ",
    0x7F: "â",
}

DEFAULT_ALPHABET: Mapping[str, int] = _locking(_DEFAULT)
DEFAULT_EXTENSION: Mapping[str, int] = _single(_DEFAULT_EXTENSION)

LOCKING_SHIFT: Mapping[NationalLanguage, Mapping[str, int]] = MappingProxyType(
    {
        NationalLanguage.TURKISH: _locking(_TURKISH_LOCKING),
        NationalLanguage.PORTUGUESE: _locking(_PORTUGUESE_LOCKING),
    }
)
SINGLE_SHIFT: Mapping[NationalLanguage, Mapping[str, int]] = MappingProxyType(
    {
        NationalLanguage.TURKISH: _single(_TURKISH_SINGLE),
        NationalLanguage.SPANISH: _single(_SPANISH_SINGLE),
        NationalLanguage.PORTUGUESE: _single(_PORTUGUESE_SINGLE),
    }
)


def reverse(table: Mapping[str, int]) -> dict[int, str]:
    """Septet -> character, for decoding."""
    return {code: char for char, code in table.items()}
