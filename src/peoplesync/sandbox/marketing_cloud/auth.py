"""``/v2/token`` (client credentials, JSON or form) and the bearer tokens it hands out."""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from peoplesync.sandbox.marketing_cloud.config import SandboxConfig
from peoplesync.sandbox.marketing_cloud.wire import oauth_error

UNSUPPORTED_GRANT = (
    'Use "authorization_code" or "refresh_token" or "client_credentials" or '
    '"urn:ietf:params:oauth:grant-type:jwt-bearer" as the grant_type.'
)


class Tokens:
    """Access tokens in memory (a restart signs everyone out, as a lost token would)."""

    def __init__(self, config: SandboxConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self.clock = clock
        self._expiry: dict[str, float] = {}
        self.issued = 0

    def issue(self) -> tuple[str, int]:
        token = secrets.token_urlsafe(32)
        lifetime = self.config.knobs.token_lifetime_seconds
        self._expiry[token] = self.clock() + lifetime
        self.issued += 1
        return token, lifetime

    def valid(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        expires = self._expiry.get(token) if scheme.lower() == "bearer" else None
        return expires is not None and self.clock() < expires

    def expire_all(self) -> None:
        self._expiry.clear()


async def token_route(request: Request, tokens: Tokens, base_url: str) -> Response:
    """Answer a token request as the real auth host does."""
    raw = (await request.body()).decode(errors="replace")
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        body: object = dict(parse_qsl(raw))
    else:
        try:
            body = json.loads(raw or "{}")
        except ValueError:
            return oauth_error(400, "invalid_request", "The request body is not valid JSON.")
    if not isinstance(body, dict):
        return oauth_error(400, "invalid_request", "The request body must be an object.")
    if body.get("grant_type") != "client_credentials":
        return oauth_error(400, "unsupported_grant_type", UNSUPPORTED_GRANT)
    config = tokens.config
    good_id = hmac.compare_digest(str(body.get("client_id", "")), config.client_id)
    good_secret = hmac.compare_digest(str(body.get("client_secret", "")), config.client_secret)
    if not (good_id and good_secret):
        return oauth_error(401, "invalid_client", "Client authentication failed.")
    account = body.get("account_id")
    if account is not None and str(account) != config.mid:
        return oauth_error(
            401, "unauthorized_client", "The client is not authorized for this account."
        )
    token, lifetime = tokens.issue()
    return JSONResponse(
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "scope": str(body.get("scope") or "data_extensions_read data_extensions_write"),
            "soap_instance_url": f"{base_url}/",
            "rest_instance_url": f"{base_url}/",
        }
    )
