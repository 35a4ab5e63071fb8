"""Journey Builder bodies: JSON, or JWT signed with the package secret or a salt key."""

from __future__ import annotations

import json

import pytest

from peoplesync.errors import BadSignatureError, JourneyRequestError
from peoplesync.marketing_cloud.signed_body import key_bytes, read_body, sign

SECRET = key_bytes("package-jwt-signing-secret")
SALT = key_bytes("0x6b657973616c74")
CLAIMS = {"inArguments": [{"phone": "+38591"}], "activityId": "a", "definitionInstanceId": "d"}


def test_a_jwt_signed_with_the_package_secret_is_read() -> None:
    token = sign(CLAIMS, SECRET)
    assert read_body(token.encode(), "application/jwt", [SECRET]) == CLAIMS


def test_a_salt_key_signs_with_its_bytes_not_its_text() -> None:
    assert SALT == b"keysalt"
    token = sign(CLAIMS, SALT)
    assert read_body(token.encode(), "application/jwt; charset=utf-8", [SECRET, SALT]) == CLAIMS
    with pytest.raises(BadSignatureError):
        read_body(sign(CLAIMS, b"0x6b657973616c74").encode(), "application/jwt", [SECRET, SALT])


def test_a_wrong_signature_is_refused_without_echoing_the_key() -> None:
    token = sign(CLAIMS, b"someone-else")
    with pytest.raises(BadSignatureError) as caught:
        read_body(token.encode(), "application/jwt", [SECRET])
    assert "package-jwt-signing-secret" not in str(caught.value)


def test_a_tampered_body_is_refused() -> None:
    head, payload, signature = sign(CLAIMS, SECRET).split(".")
    other = sign({**CLAIMS, "activityId": "b"}, SECRET).split(".")[1]
    with pytest.raises(BadSignatureError):
        read_body(f"{head}.{other}.{signature}".encode(), "application/jwt", [SECRET])
    assert payload != other


def test_a_jwt_without_a_content_type_is_still_checked() -> None:
    with pytest.raises(BadSignatureError):
        read_body(sign(CLAIMS, b"x").encode(), "text/plain", [SECRET])


def test_json_bodies_pass_only_where_no_secret_is_set() -> None:
    raw = json.dumps(CLAIMS).encode()
    assert read_body(raw, "application/json", []) == CLAIMS
    with pytest.raises(BadSignatureError):
        read_body(raw, "application/json", [SECRET])


def test_a_signed_body_with_no_secret_configured_says_what_to_enter() -> None:
    with pytest.raises(BadSignatureError) as caught:
        read_body(sign(CLAIMS, SECRET).encode(), "application/jwt", [])
    assert "JWT Signing Secret" in caught.value.hint


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_unreadable_json_is_a_request_error(raw: bytes) -> None:
    with pytest.raises(JourneyRequestError):
        read_body(raw, "application/json", [])


def test_a_salt_that_is_not_hex_names_the_field() -> None:
    with pytest.raises(JourneyRequestError) as caught:
        key_bytes("0xnothex")
    assert caught.value.field == "customerKey"
