"""The OAuth 2.0 web-server flow with PKCE: a person approves access in the browser.

``start`` makes the authorize URL with a fresh verifier and state; after Salesforce redirects
back with a code, ``finish`` checks the state and exchanges the code (with the verifier) for
a refresh token, which the integration keeps sealed. ``wait_for_redirect`` is a one-shot
loopback listener for command-line use; the web app handles the callback itself.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx

from peoplesync.errors import ConfigurationError
from peoplesync.salesforce.auth import RefreshTokenCredentials
from peoplesync.salesforce.failure import ReconnectNeededError, SalesforceUnavailableError

SCOPES = "api refresh_token"


@dataclass(frozen=True)
class Authorization:
    """One authorization under way: where to send the person, and what proves it is ours."""

    url: str
    redirect_uri: str
    state: str
    verifier: str = field(repr=False)


def challenge_of(verifier: str) -> str:
    """The S256 code challenge of a verifier."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def start(login_url: str, client_id: str, redirect_uri: str) -> Authorization:
    """The authorize URL for a new authorization (PKCE S256, random state)."""
    verifier = secrets.token_urlsafe(64)
    state = secrets.token_urlsafe(24)
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": SCOPES,
        "state": state,
        "code_challenge": challenge_of(verifier),
        "code_challenge_method": "S256",
    }
    url = f"{login_url.rstrip('/')}/services/oauth2/authorize?{urlencode(query)}"
    return Authorization(url, redirect_uri, state, verifier)


def code_from(authorization: Authorization, redirect: str) -> str:
    """The code of the redirect Salesforce sent back, after checking it answers this
    authorization; a denial or a foreign state is a clear error."""
    query = {k: v[0] for k, v in parse_qs(urlparse(redirect).query).items()}
    if query.get("state") != authorization.state:
        raise ConfigurationError(
            "the authorization answer does not belong to this request (state differs)",
            hint="start the connection again and use the newest link",
        )
    if "error" in query:
        raise ReconnectNeededError(
            f"Salesforce did not grant access ({query['error']}: "
            f"{query.get('error_description', '')})"
        )
    if not query.get("code"):
        raise ConfigurationError("the redirect carries no code", hint="start the connection again")
    return query["code"]


@dataclass(frozen=True)
class Grant:
    """What the token endpoint granted: the refresh token and the org's instance URL (where
    its records open, which may differ from the login URL)."""

    credentials: RefreshTokenCredentials = field(repr=False)
    instance_url: str
    identity_url: str | None = None  # ``.../id/{organization id}/{user id}``


async def finish(
    http: httpx.AsyncClient,
    login_url: str,
    client_id: str,
    client_secret: str | None,
    authorization: Authorization,
    redirect: str,
) -> RefreshTokenCredentials:
    """Exchange the redirect's code for a refresh token."""
    grant = await exchange(http, login_url, client_id, client_secret, authorization, redirect)
    return grant.credentials


async def exchange(
    http: httpx.AsyncClient,
    login_url: str,
    client_id: str,
    client_secret: str | None,
    authorization: Authorization,
    redirect: str,
) -> Grant:
    """Exchange the redirect's code for a refresh token and the org's instance URL."""
    form = {
        "grant_type": "authorization_code",
        "code": code_from(authorization, redirect),
        "client_id": client_id,
        "redirect_uri": authorization.redirect_uri,
        "code_verifier": authorization.verifier,
    }
    if client_secret:
        form["client_secret"] = client_secret
    try:
        response = await http.post(f"{login_url.rstrip('/')}/services/oauth2/token", data=form)
    except httpx.TransportError as exc:
        raise SalesforceUnavailableError(
            f"cannot reach {login_url}: {type(exc).__name__}"
        ) from None
    try:
        body: dict[str, Any] = response.json() if response.content else {}
    except ValueError:
        raise ConfigurationError(
            f"{login_url} did not answer like a Salesforce token endpoint "
            f"(HTTP {response.status_code})",
            hint="check the login URL",
        ) from None
    if response.status_code != 200:
        raise ReconnectNeededError(
            f"Salesforce refused the authorization code ({body.get('error')}: "
            f"{body.get('error_description', '')})"
        )
    if not body.get("refresh_token"):
        raise ConfigurationError(
            "Salesforce granted no refresh token",
            hint="add the 'refresh_token, offline_access' scope to the connected app",
        )
    credentials = RefreshTokenCredentials(client_id, str(body["refresh_token"]), client_secret)
    identity = body.get("id")
    return Grant(
        credentials,
        str(body.get("instance_url") or login_url).rstrip("/"),
        str(identity) if identity else None,
    )


async def wait_for_redirect(
    server_ready: asyncio.Future[str], *, host: str = "127.0.0.1", port: int = 0
) -> str:
    """Listen on loopback for one browser redirect; ``server_ready`` gets the redirect URI
    as soon as the listener is up; returns the full redirect URL."""
    arrived: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request_line = (await reader.readline()).decode(errors="replace").split()
        while (await reader.readline()).strip():
            pass  # headers
        target = request_line[1] if len(request_line) > 1 else "/"
        page = b"<html><body><h1>peoplesync is connected.</h1>You can close this tab.</body></html>"
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
            + f"Content-Length: {len(page)}\r\n\r\n".encode()
            + page
        )
        await writer.drain()
        writer.close()
        if target.startswith("/callback") and not arrived.done():
            arrived.set_result(f"http://{host}:{bound}{target}")

    server = await asyncio.start_server(handle, host, port)
    bound = server.sockets[0].getsockname()[1]
    server_ready.set_result(f"http://{host}:{bound}/callback")
    async with server:
        return await arrived
