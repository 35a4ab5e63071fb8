"""Malformed and foreign JWT bodies: every one refused as a bad signature (the route's 401),
and the hand-written HS256 check accepting exactly what PyJWT's ``decode`` accepts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt as pyjwt
import pytest

from peoplesync.errors import BadSignatureError
from peoplesync.marketing_cloud.signed_body import key_bytes, read_body, sign

SECRET = key_bytes("package-jwt-signing-secret-" * 3)  # 81 bytes: PyJWT warns of none
CLAIMS: dict[str, Any] = {"inArguments": [{"phone": "+38591"}], "activityId": "a"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forged(
    header: dict[str, Any], claims: object, key: bytes = SECRET, digest: str = "sha256"
) -> str:
    """A token with any header, signed over its own signing input with ``key``."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(key, signing_input.encode(), digest).digest()
    return f"{signing_input}.{_b64(signature)}"


def _refused(token: str) -> str:
    with pytest.raises(BadSignatureError) as caught:
        read_body(token.encode(), "application/jwt", [SECRET])
    return caught.value.message


def test_alg_none_is_refused_even_without_a_signature() -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    unsigned = f"{header}.{_b64(json.dumps(CLAIMS).encode())}."
    assert "InvalidAlgorithmError" in _refused(unsigned)
    assert "InvalidAlgorithmError" in _refused(_forged({"alg": "none"}, CLAIMS))


def test_another_hmac_algorithm_with_the_right_key_is_refused() -> None:
    token = _forged({"alg": "HS512", "typ": "JWT"}, CLAIMS, digest="sha512")
    assert pyjwt.decode(token, SECRET, algorithms=["HS512"]) == CLAIMS  # well formed otherwise
    assert "InvalidAlgorithmError" in _refused(token)
    assert "InvalidAlgorithmError" in _refused(_forged({"typ": "JWT"}, CLAIMS))  # no alg


def test_a_header_that_is_not_a_json_object_is_refused() -> None:
    assert "DecodeError" in _refused(_forged(["HS256"], CLAIMS))  # type: ignore[arg-type]
    good = sign(CLAIMS, SECRET)
    assert "DecodeError" in _refused("bm90IGpzb24" + good[good.index(".") :])


def test_a_signed_payload_that_is_not_an_object_is_refused() -> None:
    assert "payload is not a JSON object" in _refused(_forged({"alg": "HS256"}, [CLAIMS]))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t + "==",  # padding that makes a segment's length wrong
        lambda t: t + "===",  # more padding than base64 ever has
        lambda t: t.replace(".", "==.", 1),  # padding inside the token
        lambda t: t[:-1] + "!",  # a character outside the alphabet
        lambda t: t[:-1] + "+",  # the standard alphabet, not base64url
        lambda t: t[:-2],  # a truncated signature
        lambda t: t + "A",  # a segment of 4n+1 characters
        lambda t: t.rpartition(".")[0],  # two segments
        lambda t: t + ".e30",  # four segments
        lambda t: "",
        lambda t: "..",
    ],
)
def test_malformed_tokens_are_refused(mangle: Any) -> None:
    token = sign(CLAIMS, SECRET)
    _refused(mangle(token))


def test_a_non_canonical_signature_spelling_is_refused() -> None:
    token = sign(CLAIMS, SECRET)  # 32 bytes: 43 characters, the last holding 2 unused bits
    last = token[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = alphabet[alphabet.index(last) ^ 1]  # same 4 leading bits, an unused bit set
    assert base64.urlsafe_b64decode(token[-43:-1] + twin + "=") == base64.urlsafe_b64decode(
        token[-43:] + "="
    )
    assert "DecodeError" in _refused(token[:-1] + twin)


def test_padded_segments_are_accepted_as_some_issuers_send_them() -> None:
    head, payload, signature = sign(CLAIMS, SECRET).split(".")

    def padded(part: str) -> str:
        return part + "=" * (-len(part) % 4)

    token = f"{padded(head)}.{padded(payload)}.{padded(signature)}"
    if token.count("=") == 0:  # pragma: no cover - the fixed claims always need some
        pytest.fail("the sample needs padding")
    # The signature covers the segments as sent, so re-sign the padded signing input.
    signing_input = f"{padded(head)}.{padded(payload)}"
    mac = hmac.new(SECRET, signing_input.encode(), hashlib.sha256).digest()
    resigned = f"{signing_input}.{_b64(mac)}"
    assert read_body(resigned.encode(), "application/jwt", [SECRET]) == CLAIMS


def test_an_expired_body_is_refused_and_a_current_one_read() -> None:
    now = int(time.time())
    assert "expired" in _refused(sign({**CLAIMS, "exp": now - 5}, SECRET))
    fresh = {**CLAIMS, "exp": now + 300, "iat": now - 1, "nbf": now - 1}
    assert read_body(sign(fresh, SECRET).encode(), "application/jwt", [SECRET]) == fresh


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"exp": "soon"}, "DecodeError"),
        ({"nbf": None}, "DecodeError"),
        ({"iat": [1]}, "InvalidIssuedAtError"),
        ({"iat": 4_000_000_000}, "ImmatureSignatureError"),
        ({"nbf": 4_000_000_000}, "ImmatureSignatureError"),
        ({"sub": 7}, "InvalidSubjectError"),
        ({"jti": {"id": 1}}, "InvalidJTIError"),
    ],
)
def test_bad_registered_claims_are_refused(extra: dict[str, Any], reason: str) -> None:
    assert reason in _refused(sign({**CLAIMS, **extra}, SECRET))


def test_critical_header_extensions_are_refused() -> None:
    assert "DecodeError" in _refused(_forged({"alg": "HS256", "crit": ["exp"]}, CLAIMS))
    assert "DecodeError" in _refused(_forged({"alg": "HS256", "b64": False}, CLAIMS))


def _pyjwt_accepts(token: str) -> bool:
    try:
        pyjwt.decode(token, SECRET, algorithms=["HS256"], options={"require": []})
    except pyjwt.PyJWTError:
        return False
    return True


def _ours_accepts(token: str) -> bool:
    try:
        read_body(token.encode(), "application/jwt", [SECRET])
    except BadSignatureError:
        return False
    return True


def test_every_one_character_change_is_judged_as_pyjwt_judges_it() -> None:
    token = sign(CLAIMS, SECRET)
    changed = [
        token[:at] + character + token[at + 1 :]
        for at in range(len(token))
        for character in ("A", "-", "_", "=", ".", "%")
        if token[at] != character
    ]
    verdicts = [(_ours_accepts(t), _pyjwt_accepts(t)) for t in changed]
    assert all(ours == theirs for ours, theirs in verdicts)
    assert any(ours for ours, _ in verdicts) is any(theirs for _, theirs in verdicts)
    assert _ours_accepts(token)
