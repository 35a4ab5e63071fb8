"""Getting and renewing Salesforce access tokens (OAuth 2.0) for our client."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import jwt

from peoplesync.salesforce.failure import ReconnectNeededError, SalesforceUnavailableError


@dataclass
class Session:
    """A usable session: the access token and where to send API calls."""

    access_token: str
    instance_url: str
    refresh_token: str | None = None
    issued_at: float = field(default_factory=time.time)
    # The identity URL (``.../id/{organization id}/{user id}``) the token response named.
    identity_url: str | None = None


class Credentials(Protocol):
    """A way to obtain a session from the token endpoint."""

    def token_form(self) -> dict[str, str]:
        """The form posted to ``/services/oauth2/token``."""
        ...


@dataclass(frozen=True)
class PasswordCredentials:
    """Username-password flow (an integration user; not for production orgs with MFA)."""

    client_id: str
    client_secret: str = field(repr=False)
    username: str
    password: str = field(repr=False)

    def token_form(self) -> dict[str, str]:
        return {
            "grant_type": "password",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "username": self.username,
            "password": self.password,
        }


@dataclass(frozen=True)
class ClientCredentials:
    """Client credentials flow (runs as the connected app's execution user)."""

    client_id: str
    client_secret: str = field(repr=False)

    def token_form(self) -> dict[str, str]:
        return {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }


@dataclass(frozen=True)
class JwtBearerCredentials:
    """JWT bearer flow: an assertion signed with the connected app's certificate key."""

    client_id: str
    username: str
    private_key_pem: bytes = field(repr=False)
    audience: str = "https://login.salesforce.com"

    def token_form(self) -> dict[str, str]:
        claims = {
            "iss": self.client_id,
            "sub": self.username,
            "aud": self.audience,
            "exp": int(time.time()) + 180,
        }
        assertion = jwt.encode(claims, self.private_key_pem, algorithm="RS256")
        return {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}


@dataclass(frozen=True)
class RefreshTokenCredentials:
    """A refresh token from the web-server flow (with PKCE) done in the UI."""

    client_id: str
    refresh_token: str = field(repr=False)
    client_secret: str | None = field(default=None, repr=False)

    def token_form(self) -> dict[str, str]:
        form = {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "refresh_token": self.refresh_token,
        }
        if self.client_secret:
            form["client_secret"] = self.client_secret
        return form


class Authenticator:
    """Turns credentials into sessions; a revoked grant becomes ReconnectNeededError."""

    def __init__(self, http: httpx.AsyncClient, login_url: str, credentials: Credentials) -> None:
        self.http = http
        self.login_url = login_url.rstrip("/")
        self.credentials = credentials

    async def login(self) -> Session:
        """A new session from the token endpoint."""
        try:
            response = await self.http.post(
                f"{self.login_url}/services/oauth2/token", data=self.credentials.token_form()
            )
        except httpx.TransportError as exc:
            raise SalesforceUnavailableError(
                f"cannot reach {self.login_url}: {type(exc).__name__}"
            ) from None
        body: dict[str, Any] = response.json() if response.content else {}
        if response.status_code >= 500:
            raise SalesforceUnavailableError(f"token endpoint answered {response.status_code}")
        if response.status_code != 200:
            error = body.get("error", f"HTTP_{response.status_code}")
            description = body.get("error_description", "")
            # Never echo the form: it holds secrets.
            raise ReconnectNeededError(
                f"Salesforce refused the credentials ({error}: {description})"
            )
        refresh = body.get("refresh_token") or (
            self.credentials.refresh_token
            if isinstance(self.credentials, RefreshTokenCredentials)
            else None
        )
        identity = body.get("id")
        return Session(
            str(body["access_token"]),
            str(body["instance_url"]),
            refresh,
            identity_url=str(identity) if identity else None,
        )
