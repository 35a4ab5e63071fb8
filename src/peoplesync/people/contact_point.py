"""Email addresses and phone numbers: validation and normal forms (pure functions).

An email is kept as written (domain lower-cased) and compared through its key, the
lower-cased address. A phone number is kept in E.164.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import email_validator
import phonenumbers
from phonenumbers import PhoneMetadata
from phonenumbers import phonenumberutil as pnu

from peoplesync.errors import InvalidEmailError, InvalidPhoneError

# A strict subset of what email-validator accepts: plain ASCII local part and a DNS name.
# Addresses it matches skip the slower full validation; everything else takes the full path.
_SIMPLE_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)
# The same with letters beyond ASCII in the local part (Jürgen, Šurbek): accepted on the fast
# path when every such character is a letter and the local part is already in NFC, which is
# what email-validator's internationalized dot-atom rule and its normal form come down to then.
_LETTERS_EMAIL = re.compile(
    r"(?P<local>(?:[A-Za-z0-9_+-]|[^\x00-\x7F])+(?:\.(?:[A-Za-z0-9_+-]|[^\x00-\x7F])+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)
_SPECIAL_USE = frozenset(email_validator.SPECIAL_USE_DOMAIN_NAMES)
_MAX_EMAIL = 254


@dataclass(frozen=True, slots=True)
class EmailAddress:
    """An email address in normal form, with the key used to compare addresses."""

    address: str
    key: str


def _is_special_use(domain: str) -> bool:
    labels = domain.split(".")
    return any(".".join(labels[i:]) in _SPECIAL_USE for i in range(len(labels)))


def _plain_letters(local: str) -> bool:
    """Whether every non-ASCII character of ``local`` is a letter, in NFC already."""
    return all(
        unicodedata.category(c)[0] == "L" for c in local if c > "\x7f"
    ) and unicodedata.is_normalized("NFC", local)


def normalise_email(raw: str, *, record: str | None = None, field: str = "email") -> EmailAddress:
    """Validate ``raw`` and return its normal form; raise InvalidEmailError naming the field."""
    if not isinstance(raw, str):
        raise InvalidEmailError(
            f"expected text, got {type(raw).__name__}", record=record, field=field
        )
    text = raw.strip()
    match = _SIMPLE_EMAIL.fullmatch(text)
    if match is None and not text.isascii():
        match = _LETTERS_EMAIL.fullmatch(text)
        if match is not None and not _plain_letters(match["local"]):
            match = None
    if (
        match is not None
        and len(text.encode()) <= _MAX_EMAIL
        and len(match["local"]) <= 64
        and len(match["domain"]) <= 253
        and "--" not in match["domain"]  # IDNA label rules: leave those to email-validator
        and not _is_special_use(match["domain"].lower())
    ):
        address = f"{match['local']}@{match['domain'].lower()}"
        return EmailAddress(address, address.lower())
    try:
        checked = email_validator.validate_email(
            text, check_deliverability=False, allow_smtputf8=True
        )
    except email_validator.EmailNotValidError as exc:
        shown = text if len(text) <= 80 else text[:77] + "..."
        message = f"{shown!r} is not a valid email address ({exc})"
        raise InvalidEmailError(message, record=record, field=field) from None
    return EmailAddress(checked.normalized, checked.normalized.lower())


def email_key(raw: str) -> str:
    """The comparison key of an address (trimmed, lower-cased), without validation."""
    return raw.strip().lower()


_INTERNATIONAL = re.compile(r"\+[0-9 ().-]{6,30}")
_NOT_DIGIT = re.compile(r"[^0-9]")


# (possible national lengths, empty meaning any; compiled national number pattern or None)
_Desc = tuple[frozenset[int], re.Pattern[str] | None]


def _compiled(desc: Any) -> _Desc | None:
    if desc is None:
        return None
    pattern = desc.national_number_pattern
    return frozenset(desc.possible_length), re.compile(pattern) if pattern else None


_DESCS: dict[str, tuple[_Desc | None, tuple[_Desc | None, ...]]] = {}


def _descs(metadata: Any) -> tuple[_Desc | None, tuple[_Desc | None, ...]]:
    """A region's general description and its number types, common ones first, compiled once
    (phonenumbers looks each pattern up again on every test)."""
    found = _DESCS.get(metadata.id)
    if found is not None:
        return found
    types = (
        metadata.mobile,
        metadata.fixed_line,
        metadata.toll_free,
        metadata.premium_rate,
        metadata.shared_cost,
        metadata.voip,
        metadata.personal_number,
        metadata.pager,
        metadata.uan,
        metadata.voicemail,
    )
    found = _DESCS[metadata.id] = (
        _compiled(metadata.general_desc),
        tuple(_compiled(desc) for desc in types),
    )
    return found


def _matches(national: str, desc: _Desc | None) -> bool:
    # phonenumbers' _is_number_matching_desc.
    if desc is None:
        return False
    lengths, pattern = desc
    if lengths and len(national) not in lengths:
        return False
    return pattern is not None and pattern.fullmatch(national) is not None


def _type_known(national: str, metadata: Any) -> bool:
    # The same test phonenumbers' is_valid_number makes, with the common types tried first.
    general, types = _descs(metadata)
    if not _matches(national, general):
        return False
    return any(_matches(national, desc) for desc in types)


def _fast_e164(text: str) -> str | None:
    """E.164 for a plainly written international number, or None to take the full path.

    It only ever accepts: anything unusual (national prefixes, extensions, letters,
    non-geographic codes) goes through phonenumbers.parse, which is 4-5 times slower.
    """
    if not _INTERNATIONAL.fullmatch(text):
        return None
    digits = _NOT_DIGIT.sub("", text)
    if not 7 <= len(digits) <= 15:
        return None
    return _e164_of_digits(digits)


@lru_cache(maxsize=65_536)
def _e164_of_digits(digits: str) -> str | None:
    # What _fast_e164 answers depends on the digits alone, so one number written two ways
    # (a record's "+1 415 555 0199" and People's "+14155550199") is worked out once.
    for size in (1, 2, 3):
        regions = pnu.COUNTRY_CODE_TO_REGION_CODE.get(int(digits[:size]))
        if regions:
            break
    else:
        return None
    national = digits[size:]
    chosen = None
    for region in regions:
        metadata = PhoneMetadata.metadata_for_region(region)
        if metadata is None:
            return None
        if metadata.national_prefix_for_parsing and re.match(
            metadata.national_prefix_for_parsing, national
        ):
            return None  # parse() might strip a prefix here
        if metadata.leading_digits:
            if re.match(metadata.leading_digits, national):
                chosen = metadata
                break
        elif _type_known(national, metadata):
            return "+" + digits  # chosen by its type already
    if chosen is None or not _type_known(national, chosen):
        return None
    return "+" + digits


@lru_cache(maxsize=65_536)
def _parse_phone(text: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def normalise_phone(
    raw: str, *, default_region: str | None = None, record: str | None = None, field: str = "phone"
) -> str:
    """Return ``raw`` in E.164; raise InvalidPhoneError naming the field when it is not a number."""
    if not isinstance(raw, str):
        raise InvalidPhoneError(
            f"expected text, got {type(raw).__name__}", record=record, field=field
        )
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    region = None if text.startswith("+") else default_region
    if region is None and not text.startswith("+"):
        raise InvalidPhoneError(
            f"{text!r} has no country code and no default region is set",
            record=record,
            field=field,
            hint="write it with its country code (+44...) or set PEOPLESYNC_DEFAULT_PHONE_REGION",
        )
    e164 = _fast_e164(text) or _parse_phone(text, region)
    if e164 is None:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise InvalidPhoneError(
            f"{shown!r} is not a valid phone number", record=record, field=field
        )
    return e164
