"""Journey Builder request bodies: plain JSON, or the same JSON as a JWT signed with HS256.

With ``useJwt`` on, Journey Builder posts the body as a compact JWT (``application/jwt``)
signed with the installed package's JWT signing secret, or, when the activity names a
``customerKey``, with a Key Management salt key. A salt key is entered as hex (``0x...``) and
signs with its bytes, not its text. Samples do not send ``exp`` or ``iat``, so neither is
required; a body whose signature no known key verifies is refused (the route answers 401).

The check is written out here rather than left to PyJWT's generic ``decode`` (which checks
the base64 alphabet one character at a time and prepares each key for every algorithm): one
HMAC-SHA256 a key over the signing input, compared with ``hmac.compare_digest``, strict
base64url decoding in C, and the claims PyJWT would check (``exp``, ``nbf``, ``iat``, ``sub``,
``jti``) checked the same way. Only ``HS256`` is accepted; ``none`` and every other ``alg`` are
refused before any key is tried. PyJWT still signs (``sign``, for the sandbox and tests).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import jwt as pyjwt

from peoplesync.errors import BadSignatureError, JourneyRequestError

JWT_CONTENT_TYPE = "application/jwt"
ALGORITHM = "HS256"


def key_bytes(key: str) -> bytes:
    """A signing key's bytes: a ``0x`` hex salt decoded, a package secret as UTF-8 text."""
    text = key.strip()
    if text[:2].lower() == "0x":
        try:
            return bytes.fromhex(text[2:])
        except ValueError as error:
            raise JourneyRequestError(
                "the salt key is not hexadecimal",
                field="customerKey",
                hint="enter the Key Management salt exactly as shown, 0x followed by hex digits",
            ) from error
    return text.encode()


def is_jwt(content_type: str | None) -> bool:
    """Whether a Content-Type header announces a JWT body."""
    return (content_type or "").split(";")[0].strip().lower() == JWT_CONTENT_TYPE


def read_body(raw: bytes, content_type: str | None, keys: Sequence[bytes]) -> dict[str, Any]:
    """The body's JSON object, its signature checked first when it is a JWT.

    A JSON body is taken as it is when ``keys`` is empty; a business unit that has a signing
    secret accepts only signed bodies, so an unsigned one cannot pass for Journey Builder.
    """
    if is_jwt(content_type) or _looks_like_jwt(raw):
        return _verified(raw, keys)
    if keys:
        raise BadSignatureError(
            "the body is not signed",
            hint="turn on useJwt for this activity, or remove the business unit's JWT secret",
        )
    return _json_object(raw)


def sign(claims: dict[str, Any], key: bytes) -> str:
    """A body signed as Journey Builder signs it (the sandbox's journey runner uses this)."""
    with warnings.catch_warnings():
        # The key is the business unit's (a salt key is often short): not ours to lengthen.
        warnings.simplefilter("ignore", pyjwt.warnings.InsecureKeyLengthWarning)
        return pyjwt.encode(claims, key, algorithm=ALGORITHM)


def _looks_like_jwt(raw: bytes) -> bool:
    text = raw.strip()
    return text.count(b".") == 2 and not text.startswith((b"{", b"["))


def _verified(
    raw: bytes, keys: Sequence[bytes], now: Callable[[], float] = time.time
) -> dict[str, Any]:
    """The claims of an HS256 JWT that one of ``keys`` signed (tried in turn, each compared
    in constant time); malformed tokens, other algorithms and expired bodies are refused."""
    if not keys:
        raise BadSignatureError(
            "a signed body arrived but the business unit has no JWT signing secret",
            hint="enter the installed package's JWT Signing Secret on the business unit",
        )
    signing_input, claims_part, signature = _parts(raw.strip())
    expected = [hmac.digest(key, signing_input, hashlib.sha256) for key in keys]
    if not any(hmac.compare_digest(digest, signature) for digest in expected):
        raise BadSignatureError(
            "the body's signature does not match the business unit's signing keys",
            hint="copy the JWT Signing Secret from the installed package again",
        )
    claims = _json_part(claims_part, "payload")
    _check_claims(claims, now())
    return claims


def _parts(token: bytes) -> tuple[bytes, bytes, bytes]:
    """The signing input, the decoded claims segment and the signature of an HS256 JWT whose
    header allows nothing else (refused, as not a valid JWT, before any key is tried)."""
    signing_input, _, signature_part = token.rpartition(b".")
    header_part, dot, claims_part = signing_input.partition(b".")
    if not dot or b"." in claims_part:
        raise _invalid("DecodeError")
    header = _json_part(_segment(header_part), "header")
    if header.get("alg") != ALGORITHM:
        raise _invalid("InvalidAlgorithmError")
    if "crit" in header or header.get("b64", True) is not True:
        raise _invalid("DecodeError")  # no JWS extension is understood here
    return signing_input, _segment(claims_part), _segment(signature_part)


def _segment(part: bytes) -> bytes:
    """A base64url segment's bytes: trailing ``=`` padding is allowed (some issuers add it),
    any other character outside the alphabet, or a non-canonical spelling, is not."""
    stripped = part.rstrip(b"=")
    padding = len(part) - len(stripped)
    if (
        padding > 2
        or (padding and len(part) % 4)
        or len(stripped) % 4 == 1
        or b"+" in stripped
        or b"/" in stripped
    ):
        raise _invalid("DecodeError")
    standard = stripped.replace(b"-", b"+").replace(b"_", b"/") + b"=" * (-len(stripped) % 4)
    try:
        decoded = binascii.a2b_base64(standard, strict_mode=True)
    except binascii.Error:
        raise _invalid("DecodeError") from None
    if binascii.b2a_base64(decoded, newline=False) != standard:
        raise _invalid("DecodeError")  # unused bits set: the same bytes spelled another way
    return decoded


def _json_part(data: bytes, name: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        raise _invalid("DecodeError") from None
    if not isinstance(value, dict):
        raise _invalid(f"DecodeError: the {name} is not a JSON object")
    return value


def _check_claims(claims: dict[str, Any], now: float) -> None:
    """The registered claims a body may carry, checked as PyJWT checks them (none required)."""
    for name in ("iat", "nbf", "exp"):
        if name in claims and not _integer(claims[name]):
            raise _invalid("InvalidIssuedAtError" if name == "iat" else "DecodeError")
    if "iat" in claims and int(claims["iat"]) > now:
        raise _invalid("ImmatureSignatureError")
    if "nbf" in claims and int(claims["nbf"]) > now:
        raise _invalid("ImmatureSignatureError")
    if "exp" in claims and int(claims["exp"]) <= now:
        raise BadSignatureError("the signed body has expired")
    if "sub" in claims and not isinstance(claims["sub"], str):
        raise _invalid("InvalidSubjectError")
    if "jti" in claims and not isinstance(claims["jti"], str):
        raise _invalid("InvalidJTIError")


def _integer(value: object) -> bool:
    """Whether ``int(value)`` works, as PyJWT requires of a time claim."""
    try:
        int(value)  # type: ignore[call-overload]
    except (ValueError, TypeError, OverflowError):
        return False
    return True


def _invalid(reason: str) -> BadSignatureError:
    return BadSignatureError(f"the body is not a valid JWT ({reason})")


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError) as error:
        raise JourneyRequestError("the body is not JSON") from error
    if not isinstance(body, dict):
        raise JourneyRequestError("the body is not a JSON object")
    return body
