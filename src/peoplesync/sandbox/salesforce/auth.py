"""The org's identity provider: OAuth 2.0 grants, sessions, revocation, SOAP login.

Tokens are kept hashed (SHA-256) in SQLite, so the org survives restarts and a leaked
database does not leak sessions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite
import jwt
from starlette.requests import Request

from peoplesync.sandbox.salesforce.config import SandboxConfig
from peoplesync.sandbox.salesforce.keys import ensure_jwt_keypair


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid session belongs to."""

    user_id: str
    org_id: str
    username: str
    session_id_hash: str


class SessionError(Exception):
    """The session is missing, expired, revoked or unknown."""


class OAuthError(Exception):
    """A token request failed: ``error`` and ``error_description`` as Salesforce sends them."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _pkce_ok(verifier: str | None, challenge: str, method: str) -> bool:
    if verifier is None:
        return False
    if method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        return hmac.compare_digest(
            base64.urlsafe_b64encode(digest).rstrip(b"=").decode(), challenge
        )
    return hmac.compare_digest(verifier, challenge)


class AuthServer:
    """Issues and checks the org's sessions."""

    def __init__(self, config: SandboxConfig, clock: Callable[[], datetime]) -> None:
        self.config = config
        self.clock = clock
        self._conn: aiosqlite.Connection | None = None

    @property
    def conn(self) -> aiosqlite.Connection:
        """The open connection."""
        if self._conn is None:
            raise RuntimeError("auth server is not open")
        return self._conn

    async def open(self) -> None:
        """Create the token table and the demo JWT key pair."""
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        self._conn = await aiosqlite.connect(self.config.database_path)
        await self.conn.execute("PRAGMA journal_mode=WAL")
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS auth_tokens (hash TEXT PRIMARY KEY, kind TEXT, user_id TEXT,"
            " client_id TEXT, expires_at REAL, parent TEXT, revoked INTEGER DEFAULT 0, data TEXT)"
        )
        await self.conn.commit()
        ensure_jwt_keypair(self.config.data_dir)

    async def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    def now(self) -> float:
        """Seconds since the epoch by the injected clock."""
        return self.clock().timestamp()

    @property
    def identity_url(self) -> str:
        """The identity URL of the org's one user."""
        return f"{self.config.instance_url}/id/{self.config.org_id}/{self.config.user_id}"

    async def _store(
        self,
        kind: str,
        token: str,
        lifetime: float | None,
        parent: str | None = None,
        data: str = "",
    ) -> None:
        expires = self.now() + lifetime if lifetime is not None else None
        await self.conn.execute(
            "INSERT INTO auth_tokens (hash, kind, user_id, client_id, expires_at, parent, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (_hash(token), kind, self.config.user_id, self.config.client_id, expires, parent, data),
        )
        await self.conn.commit()

    async def _lookup(self, kind: str, token: str) -> tuple[Any, ...] | None:
        async with self.conn.execute(
            "SELECT hash, expires_at, revoked, parent, data FROM auth_tokens WHERE hash = ? AND kind = ?",
            (_hash(token), kind),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None or row[2] or (row[1] is not None and row[1] < self.now()):
            return None
        if row[3] is not None:  # an access token dies with its refresh token
            async with self.conn.execute(
                "SELECT revoked FROM auth_tokens WHERE hash = ?", (row[3],)
            ) as cursor:
                parent = await cursor.fetchone()
            if parent is None or parent[0]:
                return None
        return tuple(row)

    async def issue(
        self, *, with_refresh: bool, parent: str | None = None, scope: str = "api refresh_token"
    ) -> dict[str, Any]:
        """Create an access token (and a refresh token) and the token response body."""
        access = f"{self.config.org_id[:15]}!{secrets.token_urlsafe(48)}"
        body: dict[str, Any] = {"access_token": access}
        if with_refresh:
            refresh = f"5Aep{secrets.token_urlsafe(60)}"
            await self._store("refresh", refresh, None)
            parent = _hash(refresh)
            body["refresh_token"] = refresh
        await self._store("access", access, float(self.config.token_lifetime_seconds), parent)
        issued_at = str(int(time.time() * 1000))
        signature = hmac.new(
            self.config.client_secret.encode(),
            (self.identity_url + issued_at).encode(),
            hashlib.sha256,
        ).digest()
        body.update(
            signature=base64.b64encode(signature).decode(),
            scope=scope,
            instance_url=self.config.instance_url,
            id=self.identity_url,
            token_type="Bearer",  # noqa: S106 - the scheme name, not a secret
            issued_at=issued_at,
        )
        return body

    def _check_client(
        self, client_id: str | None, client_secret: str | None, *, secret_required: bool
    ) -> None:
        if client_id != self.config.client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if (secret_required or client_secret is not None) and not hmac.compare_digest(
            client_secret or "", self.config.client_secret
        ):
            raise OAuthError("invalid_client", "invalid client credentials")

    def check_password(self, username: str, password: str) -> bool:
        """Username and password (with the security token appended when the org has one)."""
        expected = self.config.password + self.config.security_token
        return username.lower() == self.config.username.lower() and hmac.compare_digest(
            password, expected
        )

    async def token(self, form: dict[str, str], basic: tuple[str, str] | None) -> dict[str, Any]:
        """Handle POST /services/oauth2/token."""
        grant = form.get("grant_type", "")
        client_id = form.get("client_id") or (basic[0] if basic else None)
        client_secret = form.get("client_secret") or (basic[1] if basic else None)
        if grant == "password":
            self._check_client(client_id, client_secret, secret_required=True)
            if not self.check_password(form.get("username", ""), form.get("password", "")):
                raise OAuthError("invalid_grant", "authentication failure")
            return await self.issue(with_refresh=False, scope="api")
        if grant == "client_credentials":
            self._check_client(client_id, client_secret, secret_required=True)
            return await self.issue(with_refresh=False, scope="api")
        if grant == "refresh_token":
            self._check_client(client_id, client_secret, secret_required=False)
            row = await self._lookup("refresh", form.get("refresh_token", ""))
            if row is None:
                raise OAuthError("invalid_grant", "expired access/refresh token")
            return await self.issue(with_refresh=False, parent=row[0])
        if grant == "authorization_code":
            return await self._exchange_code(form, client_id, client_secret)
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            self._verify_assertion(form.get("assertion", ""))
            return await self.issue(with_refresh=False, scope="api")
        raise OAuthError("unsupported_grant_type", "grant type not supported")

    async def _exchange_code(
        self, form: dict[str, str], client_id: str | None, client_secret: str | None
    ) -> dict[str, Any]:
        self._check_client(client_id, client_secret, secret_required=False)
        row = await self._lookup("code", form.get("code", ""))
        if row is None:
            raise OAuthError("invalid_grant", "invalid authorization code")
        await self.conn.execute("UPDATE auth_tokens SET revoked = 1 WHERE hash = ?", (row[0],))
        await self.conn.commit()
        redirect_uri, challenge, method = ([*row[4].split("\n"), "", "", ""])[:3]
        if form.get("redirect_uri") != redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri mismatch")
        if challenge and not _pkce_ok(form.get("code_verifier"), challenge, method or "plain"):
            raise OAuthError("invalid_grant", "invalid code verifier")
        if not challenge and client_secret is None:
            raise OAuthError("invalid_client", "invalid client credentials")
        return await self.issue(with_refresh=True)

    async def authorization_code(self, redirect_uri: str, challenge: str, method: str) -> str:
        """A single-use code (valid 15 minutes) after the user allowed the app."""
        code = secrets.token_urlsafe(32)
        await self._store("code", code, 900.0, data=f"{redirect_uri}\n{challenge}\n{method}")
        return code

    def _verify_assertion(self, assertion: str) -> None:
        certificate = (self.config.data_dir / "jwt-cert.pem").read_bytes()
        from cryptography import x509

        public_key = x509.load_pem_x509_certificate(certificate).public_key()
        try:
            claims = jwt.decode(
                assertion,
                public_key,  # type: ignore[arg-type]
                algorithms=["RS256"],
                audience=[
                    self.config.instance_url,
                    "https://login.salesforce.com",
                    "https://test.salesforce.com",
                ],
                options={"require": ["exp", "iss", "sub", "aud"], "verify_exp": False},
            )
        except jwt.PyJWTError:
            raise OAuthError("invalid_grant", "invalid assertion") from None
        if float(claims["exp"]) < self.now():
            raise OAuthError("invalid_grant", "expired assertion")
        if claims["iss"] != self.config.client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if str(claims["sub"]).lower() != self.config.username.lower():
            raise OAuthError("invalid_grant", "user hasn't approved this consumer")

    async def revoke(self, token: str) -> None:
        """Revoke an access or refresh token (a refresh token takes its access tokens along)."""
        await self.conn.execute(
            "UPDATE auth_tokens SET revoked = 1 WHERE hash = ?", (_hash(token),)
        )
        await self.conn.commit()

    async def authenticate(self, request: Request) -> Principal:
        """The principal of a request's bearer token; SessionError otherwise."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if not token and request.headers.get("x-sfdc-session"):
            token = request.headers["x-sfdc-session"]
        elif scheme.lower() not in ("bearer", "oauth"):
            raise SessionError("no session")
        return await self.session(token.strip())

    async def session(self, token: str) -> Principal:
        """The principal of a session id; SessionError when it is not valid."""
        row = await self._lookup("access", token) if token else None
        if row is None:
            raise SessionError("Session expired or invalid")
        return Principal(self.config.user_id, self.config.org_id, self.config.username, row[0])

    async def start_ui_session(self, username: str, password: str) -> str:
        """A browser session of the record UI (kept hashed like the API's sessions, but of
        its own kind: it is no API token); SessionError for wrong credentials."""
        if not self.check_password(username, password):
            raise SessionError("INVALID_LOGIN")
        token = secrets.token_urlsafe(32)
        await self._store("ui", token, float(self.config.token_lifetime_seconds))
        return token

    async def ui_session(self, token: str) -> Principal:
        """The principal of a record UI session; SessionError when it is not valid."""
        row = await self._lookup("ui", token) if token else None
        if row is None:
            raise SessionError("Session expired or invalid")
        return Principal(self.config.user_id, self.config.org_id, self.config.username, row[0])

    async def soap_session(self, username: str, password: str) -> str:
        """A session for a successful SOAP login."""
        if not self.check_password(username, password):
            raise SessionError("INVALID_LOGIN")
        body = await self.issue(with_refresh=False, scope="api")
        return str(body["access_token"])


__all__ = ["AuthServer", "OAuthError", "Principal", "SessionError"]
