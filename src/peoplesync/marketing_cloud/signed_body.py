"""Journey Builder request bodies: plain JSON, or the same JSON as a JWT signed with HS256.

With ``useJwt`` on, Journey Builder posts the body as a compact JWT (``application/jwt``)
signed with the installed package's JWT signing secret, or, when the activity names a
``customerKey``, with a Key Management salt key. A salt key is entered as hex (``0x...``) and
signs with its bytes, not its text. Samples do not send ``exp`` or ``iat``, so neither is
required; a body whose signature no known key verifies is refused (the route answers 401).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
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


def _verified(raw: bytes, keys: Sequence[bytes]) -> dict[str, Any]:
    token = raw.strip().decode("ascii", errors="replace")
    if not keys:
        raise BadSignatureError(
            "a signed body arrived but the business unit has no JWT signing secret",
            hint="enter the installed package's JWT Signing Secret on the business unit",
        )
    for key in keys:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", pyjwt.warnings.InsecureKeyLengthWarning)
                claims = pyjwt.decode(
                    token,
                    key,
                    algorithms=[ALGORITHM],
                    options={"require": [], "verify_exp": True, "verify_aud": False},
                )
        except pyjwt.InvalidSignatureError:
            continue
        except pyjwt.ExpiredSignatureError as error:
            raise BadSignatureError("the signed body has expired") from error
        except pyjwt.PyJWTError as error:
            raise BadSignatureError(
                f"the body is not a valid JWT ({type(error).__name__})"
            ) from error
        if not isinstance(claims, dict):
            raise JourneyRequestError("the signed body is not a JSON object")
        return claims
    raise BadSignatureError(
        "the body's signature does not match the business unit's signing keys",
        hint="copy the JWT Signing Secret from the installed package again",
    )


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError) as error:
        raise JourneyRequestError("the body is not JSON") from error
    if not isinstance(body, dict):
        raise JourneyRequestError("the body is not a JSON object")
    return body
