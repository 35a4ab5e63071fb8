"""Email and phone normalisation, by example and by property."""

from __future__ import annotations

import email_validator
import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peoplesync.errors import InvalidEmailError, InvalidPhoneError
from peoplesync.people.contact_point import _SIMPLE_EMAIL, normalise_email, normalise_phone

simple_emails = st.from_regex(_SIMPLE_EMAIL, fullmatch=True).filter(lambda s: len(s) <= 254)


@given(simple_emails)
@settings(max_examples=300)
def test_fast_path_agrees_with_email_validator(raw: str) -> None:
    try:
        checked = email_validator.validate_email(raw, check_deliverability=False)
    except email_validator.EmailNotValidError:
        with pytest.raises(InvalidEmailError):
            normalise_email(raw)
        return
    assert normalise_email(raw).address == checked.normalized


_atom = st.text(
    st.one_of(
        st.sampled_from("abcXYZ019_+-"),
        st.characters(categories=("Ll", "Lu", "Lo", "Lm", "Mn", "Nd", "So"), min_codepoint=128),
    ),
    min_size=1,
    max_size=12,
)
letter_emails = st.builds(
    lambda atoms, domain: ".".join(atoms) + "@" + domain,
    st.lists(_atom, min_size=1, max_size=3),
    st.sampled_from(["example.com", "Beispiel.DE", "mail.example.hr"]),
)


@given(letter_emails)
@settings(max_examples=500)
def test_letters_beyond_ascii_agree_with_email_validator(raw: str) -> None:
    try:
        checked = email_validator.validate_email(
            raw, check_deliverability=False, allow_smtputf8=True
        )
    except email_validator.EmailNotValidError:
        with pytest.raises(InvalidEmailError):
            normalise_email(raw)
        return
    assert normalise_email(raw).address == checked.normalized


@pytest.mark.parametrize(
    "raw", ["hélène.salmon2@Example.com", "philip.šurbek7@example.com", "e\u0301lise@example.com"]
)
def test_letters_beyond_ascii_by_example(raw: str) -> None:
    checked = email_validator.validate_email(raw, check_deliverability=False)
    assert normalise_email(raw).address == checked.normalized


@given(simple_emails)
def test_normal_form_is_idempotent_and_case_blind(raw: str) -> None:
    try:
        first = normalise_email(raw)
    except InvalidEmailError:
        return
    assert normalise_email(first.address) == first
    assert normalise_email(f"  {raw.upper()} ").key == first.key
    assert first.key == first.address.lower()


@pytest.mark.parametrize(
    ("raw", "address"),
    [
        ("  Jane.Doe@EXAMPLE.com ", "Jane.Doe@example.com"),
        ("jürgen@münchen.de", "jürgen@münchen.de"),
        ("o'brien@example.ie", "o'brien@example.ie"),
    ],
)
def test_examples(raw: str, address: str) -> None:
    assert normalise_email(raw).address == address


@pytest.mark.parametrize("raw", ["", "plain", "a@b", "a..b@example.com", "a@localhost", "a@x.test"])
def test_invalid_emails_name_the_field(raw: str) -> None:
    with pytest.raises(InvalidEmailError) as caught:
        normalise_email(raw, record="00Q1", field="Email")
    assert caught.value.field == "Email" and caught.value.record == "00Q1"
    assert "Email" in str(caught.value) and "how to fix" in str(caught.value)


regions = st.sampled_from(["US", "GB", "DE", "FR", "HR", "IN", "BR", "JP", "AU", "ZA", "TR", "KR"])
formats = st.sampled_from(
    [phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.INTERNATIONAL]
)


@given(regions, formats, st.sampled_from(["", " ", "-"]))
def test_phone_numbers_normalise_to_e164(region: str, fmt: int, sep: str) -> None:
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    written = phonenumbers.format_number(example, fmt).replace(" ", sep)
    assert normalise_phone(written) == e164
    assert normalise_phone(e164) == e164
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    assert normalise_phone(national, default_region=region) == e164
    assert normalise_phone("00" + e164[1:]) == e164


@pytest.mark.parametrize("raw", ["12", "+1 555", "call me", "+999 123456789"])
def test_invalid_phones(raw: str) -> None:
    with pytest.raises(InvalidPhoneError) as caught:
        normalise_phone(raw, default_region="US", record="r", field="MobilePhone")
    assert caught.value.field == "MobilePhone"


def test_national_number_without_region_explains_fix() -> None:
    with pytest.raises(InvalidPhoneError, match="PEOPLESYNC_DEFAULT_PHONE_REGION"):
        normalise_phone("(415) 555-0132")


country_codes = st.sampled_from(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE))


@given(
    country_codes, st.text("0123456789", min_size=4, max_size=13), st.sampled_from(["", " ", "-"])
)
@settings(max_examples=1500)
def test_fast_phone_path_agrees_with_phonenumbers(code: int, rest: str, sep: str) -> None:
    from peoplesync.people.contact_point import _fast_e164, _parse_phone

    written = f"+{code}{sep}{rest[:3]}{sep}{rest[3:]}"
    fast = _fast_e164(written)
    if fast is not None:
        assert fast == _parse_phone(written, None)


@given(regions, st.sampled_from(list(phonenumbers.PhoneNumberType.values())))
def test_fast_path_takes_real_example_numbers(region: str, kind: int) -> None:
    from peoplesync.people.contact_point import _fast_e164, _parse_phone

    example = phonenumbers.example_number_for_type(region, kind)
    if example is None:
        return
    written = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    fast = _fast_e164(written)
    assert fast is None or fast == _parse_phone(written, None)


def test_fast_path_covers_nearly_every_region_and_never_disagrees() -> None:
    from peoplesync.people.contact_point import _fast_e164, _parse_phone

    taken = declined = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            written = phonenumbers.format_number(
                example, phonenumbers.PhoneNumberFormat.INTERNATIONAL
            )
            fast = _fast_e164(written)
            if fast is None:
                declined += 1
            else:
                assert fast == _parse_phone(written, None), written
                taken += 1
    assert taken > 20 * declined
