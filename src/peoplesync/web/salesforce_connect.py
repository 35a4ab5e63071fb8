"""Connecting a Salesforce org from the web app: the OAuth 2.0 web-server flow with PKCE.

``Connector.begin`` checks the form (login URL, client id), asks the org's authorize endpoint
whether it knows the client id, and keeps the authorization (its PKCE verifier and the
client secret stay in this process's memory only) under its ``state``: bound to the browser
session (or the API user) that started it, single use, expiring after ten minutes.
``Connector.complete`` takes the callback's answer, exchanges the code, checks the grant with
one API call, and stores the integration: refresh token and client secret sealed, plus the
instance URL the token response named.
"""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlparse

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.clock import Clock
from peoplesync.errors import ConfigurationError, PeopleSyncError, ValidationError
from peoplesync.people.store import PeopleStore
from peoplesync.salesforce import web_flow
from peoplesync.salesforce.auth import Authenticator
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.salesforce.failure import ReconnectNeededError, SalesforceUnavailableError
from peoplesync.secret_box import SecretBox
from peoplesync.sync.connection import store_connection
from peoplesync.sync.integration import Integration, integration_names
from peoplesync.sync.organization import (
    OrgAlreadyConnectedError,
    OrgChangedError,
    client_organization,
)
from peoplesync.sync.status.state import State, resumed
from peoplesync.sync.status.store import StatusStore

PENDING_LIFETIME = timedelta(minutes=10)
MAX_PENDING = 200
CALLBACK_PATH = "/oauth/salesforce/callback"
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


class Environment(StrEnum):
    """Where the org's users log in."""

    PRODUCTION = "production"
    SANDBOX = "sandbox"
    CUSTOM = "custom"


LOGIN_URLS = {
    Environment.PRODUCTION: "https://login.salesforce.com",
    Environment.SANDBOX: "https://test.salesforce.com",
}


class ConnectFormError(ValidationError):
    """A connect form field is wrong (the page shows it next to the field)."""

    code = "INVALID_CONNECT_FORM"


class CallbackError(PeopleSyncError):
    """The answer that came back to the callback cannot complete a connection."""

    def __init__(self, status: int, code: str, message: str, *, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class ConnectRequest:
    """What the admin filled in."""

    name: str
    environment: Environment
    client_id: str
    client_secret: str = field(default="", repr=False)
    login_url: str = ""  # for a custom login URL (My Domain, or a private org)
    ca_cert: str = ""  # a CA certificate file on the server (a private org's)
    reconnect: bool = False  # renew the access of the integration of this name

    def checked(self, taken: Collection[str] = ()) -> ConnectRequest:
        """The request with the login URL resolved; ConnectFormError names the bad field
        (a name in ``taken`` is one only when reconnecting that integration)."""
        name = self.name.strip().lower() or free_name(taken)
        if len(name) > 60 or not set(name) <= NAME_CHARS:
            raise _field("name", "use letters, digits, - and _ (at most 60)")
        if name in taken and not self.reconnect:
            raise _field(
                "name",
                f"an integration named {name!r} exists already: choose another name (such as "
                f"{free_name(taken)!r}), or renew {name!r}'s access with Reconnect on its status "
                "page",
            )
        client_id = self.client_id.strip()
        if not client_id or len(client_id) > 255:
            raise _field("client_id", "give the connected app's consumer key")
        login_url = LOGIN_URLS.get(self.environment, self.login_url.strip()).rstrip("/")
        parsed = urlparse(login_url)
        if parsed.scheme != "https" or not parsed.hostname or parsed.query or parsed.fragment:
            raise _field(
                "login_url", "give an https:// address such as https://acme.my.salesforce.com"
            )
        ca_cert = self.ca_cert.strip() if self.environment is Environment.CUSTOM else ""
        if ca_cert:
            try:
                ssl.create_default_context(cafile=ca_cert)
            except (OSError, ssl.SSLError, ValueError):
                raise _field("ca_cert", "no readable PEM CA certificate at this path") from None
            ca_cert = str(Path(ca_cert).resolve())
        return ConnectRequest(
            name,
            self.environment,
            client_id,
            self.client_secret.strip(),
            login_url,
            ca_cert,
            self.reconnect and name in taken,
        )


def free_name(taken: Collection[str]) -> str:
    """A name no integration has: ``default``, else ``org-2``, ``org-3``..."""
    if "default" not in taken:
        return "default"
    number = 2
    while f"org-{number}" in taken:
        number += 1
    return f"org-{number}"


def _field(name: str, message: str) -> ConnectFormError:
    return ConnectFormError(message, record="connect", field=name)


def session_binding(cookie: str) -> str:
    """What ties an authorization to the browser session that started it (a digest of the
    session cookie: the cookie itself is never kept)."""
    return "session:" + hashlib.sha256(cookie.encode()).hexdigest()


def user_binding(user_id: str) -> str:
    """What ties an authorization started with an API token to its user."""
    return f"user:{user_id}"


@dataclass(frozen=True)
class Pending:
    """An authorization under way."""

    request: ConnectRequest
    authorization: web_flow.Authorization
    binding: str
    user_id: str
    started_by: str
    expires_at: datetime


class PendingAuthorizations:
    """Authorizations under way by state: single use, expiring, in memory only."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._by_state: dict[str, Pending] = {}

    def add(self, pending: Pending) -> None:
        now = self.clock.now()
        for state in [s for s, p in self._by_state.items() if p.expires_at <= now]:
            del self._by_state[state]
        while len(self._by_state) >= MAX_PENDING:  # the oldest go first
            del self._by_state[next(iter(self._by_state))]
        self._by_state[pending.authorization.state] = pending

    def take(self, state: str) -> Pending | None:
        """The authorization of ``state``, removed (it answers once); None when unknown or
        expired."""
        pending = self._by_state.pop(state, None)
        if pending is None or pending.expires_at <= self.clock.now():
            return None
        return pending


def _verify(ca_cert: str) -> ssl.SSLContext | bool:
    return ssl.create_default_context(cafile=ca_cert) if ca_cert else True


class Connector:
    """Starts and completes web connections; ``on_connected`` hears each new connection."""

    def __init__(
        self,
        box: SecretBox,
        clock: Clock,
        *,
        on_connected: Callable[[str], Awaitable[None]] | None = None,
        running: Callable[[], list[str]] | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.box = box
        self.clock = clock
        self.pending = PendingAuthorizations(clock)
        self.on_connected = on_connected
        self.running = running
        self.timeout = timeout

    async def begin(
        self,
        request: ConnectRequest,
        redirect_uri: str,
        *,
        binding: str,
        user_id: str,
        email: str,
        taken: Collection[str] = (),
    ) -> Pending:
        """Check the request (``taken``: the names of the stored integrations), probe the
        org, and keep the authorization; its ``url`` is where the browser goes next."""
        checked = request.checked(taken)
        authorization = web_flow.start(checked.login_url, checked.client_id, redirect_uri)
        await self._probe(checked, authorization)
        pending = Pending(
            checked,
            authorization,
            binding,
            user_id,
            email,
            self.clock.now() + PENDING_LIFETIME,
        )
        self.pending.add(pending)
        return pending

    async def _probe(self, request: ConnectRequest, authorization: web_flow.Authorization) -> None:
        """Ask the authorize endpoint about the request before the browser goes there, so a
        wrong login URL or client id is shown here, on the form."""
        try:
            async with httpx.AsyncClient(
                verify=_verify(request.ca_cert), timeout=self.timeout
            ) as http:
                answer = await http.get(authorization.url, follow_redirects=False)
        except httpx.TransportError as exc:
            hint = " (its certificate is not trusted: give its CA certificate)" if _tls(exc) else ""
            raise _field(
                "login_url", f"cannot reach {request.login_url}: {type(exc).__name__}{hint}"
            ) from None
        said = f"{answer.headers.get('location', '')} {answer.text[:2000]}"
        if "invalid_client_id" in said or "invalid_client" in said:
            raise _field("client_id", "the org does not know this client id (consumer key)")
        if "redirect_uri_mismatch" in said:
            raise _field(
                "client_id",
                f"the connected app's callback URL must be {authorization.redirect_uri}",
            )
        if answer.status_code >= 400:
            raise _field(
                "login_url",
                f"{request.login_url} answered HTTP {answer.status_code} to the authorize request",
            )

    async def complete(
        self,
        store: PeopleStore,
        engine: AsyncEngine,
        statuses: StatusStore,
        params: Mapping[str, str],
        bindings: set[str],
        callback_url: str,
    ) -> Pending:
        """Finish the authorization the callback answers; returns it once the integration
        is stored. CallbackError says what went wrong (never a secret)."""
        state = params.get("state", "")
        pending = self.pending.take(state) if state else None
        if pending is None:
            raise CallbackError(
                400,
                "BAD_STATE",
                "this answer from Salesforce is unknown, expired or was used already",
                hint="start connecting again from the Salesforce page",
            )
        if pending.binding not in bindings:
            raise CallbackError(
                400,
                "BAD_STATE",
                "this answer from Salesforce belongs to another login session",
                hint=f"log in as {pending.started_by} and start connecting again",
            )
        if "error" in params:
            reason = params.get("error_description") or params["error"]
            raise CallbackError(
                403 if params["error"] == "access_denied" else 400,
                "ACCESS_NOT_GRANTED",
                f"Salesforce did not grant access ({params['error']}: {reason})",
                hint="start connecting again and choose Allow",
            )
        request = pending.request
        try:
            async with httpx.AsyncClient(
                verify=_verify(request.ca_cert), timeout=self.timeout
            ) as http:
                grant = await web_flow.exchange(
                    http,
                    request.login_url,
                    request.client_id,
                    request.client_secret or None,
                    pending.authorization,
                    callback_url,
                )
                client = SalesforceClient(
                    http, Authenticator(http, request.login_url, grant.credentials)
                )
                await client.limits()  # the grant works for API calls
                organization_id = await client_organization(client)
        except SalesforceUnavailableError as error:
            raise CallbackError(502, "SALESFORCE_UNAVAILABLE", error.message) from None
        except (ReconnectNeededError, ConfigurationError) as error:
            raise CallbackError(
                400, "CONNECT_FAILED", error.message, hint=error.hint or "check the client secret"
            ) from None
        instance_url = grant.instance_url
        if client.session is not None:
            instance_url = client.session.instance_url.rstrip("/")
        integration = Integration(
            request.name,
            request.login_url,
            request.client_id,
            request.client_secret,
            ca_cert=request.ca_cert or None,
            refresh_token=grant.credentials.refresh_token,
            instance_url=instance_url,
        )
        if request.name in await integration_names(engine) and not request.reconnect:
            raise CallbackError(
                409,
                "NAME_TAKEN",
                f"an integration named {request.name!r} was connected meanwhile; nothing was "
                "stored",
                hint=f"reconnect {request.name!r} from its status page, or add the integration "
                "again with another name",
            )
        try:
            connected = await store_connection(
                store, engine, self.box, integration, organization_id
            )
        except OrgAlreadyConnectedError as error:
            raise CallbackError(
                409, "ORG_ALREADY_CONNECTED", error.message, hint=error.hint
            ) from None
        except OrgChangedError as error:
            raise CallbackError(409, "OTHER_ORG", error.message, hint=error.hint) from None
        now = self.clock.now()
        await statuses.transition(
            request.name,
            lambda s: resumed(s, now) if s.state is State.RECONNECT_NEEDED else s,
        )
        await statuses.log(
            request.name,
            "connect",
            detail=f"{request.login_url} by {pending.started_by} (browser authorization)"
            + (
                f"; outbound steps off until reviewed: {', '.join(connected.awaiting_review)}"
                if connected.awaiting_review
                else ""
            ),
        )
        if self.on_connected is not None:
            await self.on_connected(request.name)
        return pending


def _tls(exc: httpx.TransportError) -> bool:
    return "CERTIFICATE" in str(exc).upper() or isinstance(exc.__context__, ssl.SSLError)


__all__ = [
    "CALLBACK_PATH",
    "LOGIN_URLS",
    "CallbackError",
    "ConnectFormError",
    "ConnectRequest",
    "Connector",
    "Environment",
    "Pending",
    "PendingAuthorizations",
    "free_name",
    "session_binding",
    "user_binding",
]
