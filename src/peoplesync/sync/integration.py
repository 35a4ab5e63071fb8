"""A Salesforce integration's connection settings, stored with its secrets sealed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from peoplesync.errors import ConfigurationError, NotFoundError
from peoplesync.people import tables
from peoplesync.people.store import PeopleStore
from peoplesync.salesforce.auth import (
    ClientCredentials,
    Credentials,
    JwtBearerCredentials,
    PasswordCredentials,
    RefreshTokenCredentials,
)
from peoplesync.secret_box import SecretBox

_PREFIX = "integration:"


def integration_key(name: str) -> str:
    """Where the integration ``name`` is stored."""
    return f"{_PREFIX}{name}"


@dataclass(frozen=True)
class Integration:
    """How to reach one org. Secret fields hold plain text only in memory."""

    name: str
    login_url: str
    client_id: str
    client_secret: str
    username: str | None = None
    password: str | None = None
    ca_cert: str | None = None
    refresh_token: str | None = None  # from the web-server flow
    jwt_key: str | None = None  # PEM private key of the connected app's certificate
    instance_url: str | None = None  # where the org's records open (from the token response)
    organization_id: str | None = None  # the org's id (from the identity URL), see organization

    def __repr__(self) -> str:
        return f"Integration({self.name!r}, {self.login_url!r}, user={self.username!r})"

    @property
    def key(self) -> str:
        """Where the integration is stored."""
        return integration_key(self.name)

    def credentials(self) -> Credentials:
        """How to log in: a refresh token from the browser flow, a JWT bearer assertion,
        username-password, or client credentials, in that order of preference."""
        if self.refresh_token:
            return RefreshTokenCredentials(
                self.client_id, self.refresh_token, self.client_secret or None
            )
        if self.jwt_key and self.username:
            sandbox = "test.salesforce.com" in self.login_url or ".sandbox." in self.login_url
            audience = f"https://{'test' if sandbox else 'login'}.salesforce.com"
            return JwtBearerCredentials(
                self.client_id, self.username, self.jwt_key.encode(), audience=audience
            )
        if self.username and self.password:
            return PasswordCredentials(
                self.client_id, self.client_secret, self.username, self.password
            )
        return ClientCredentials(self.client_id, self.client_secret)


async def save_integration(store: PeopleStore, box: SecretBox, integration: Integration) -> None:
    """Store an integration; secrets are sealed with the secret box."""
    value: dict[str, Any] = {
        "login_url": integration.login_url,
        "client_id": integration.client_id,
        "client_secret": box.seal(integration.client_secret),
        "username": integration.username,
        "password": box.seal(integration.password) if integration.password else None,
        "ca_cert": integration.ca_cert,
        "refresh_token": box.seal(integration.refresh_token) if integration.refresh_token else None,
        "jwt_key": box.seal(integration.jwt_key) if integration.jwt_key else None,
        "instance_url": integration.instance_url,
        "organization_id": integration.organization_id,
    }
    await store.set_state(integration.key, value)


async def load_integration(
    store: PeopleStore, box: SecretBox, name: str = "default"
) -> Integration:
    """A stored integration with its secrets opened."""
    value = await store.get_state(integration_key(name))
    if value is None:
        raise ConfigurationError(
            f"no Salesforce integration named {name!r}",
            hint="connect one first: peoplesync salesforce connect --login-url ... --client-id ...",
            web_hint="connect one first: Salesforce, then Connect (/salesforce/connect)",
        )
    return Integration(
        name=name,
        login_url=value["login_url"],
        client_id=value["client_id"],
        client_secret=box.open(value["client_secret"]),
        username=value.get("username"),
        password=box.open(value["password"]) if value.get("password") else None,
        ca_cert=value.get("ca_cert"),
        refresh_token=box.open(value["refresh_token"]) if value.get("refresh_token") else None,
        jwt_key=box.open(value["jwt_key"]) if value.get("jwt_key") else None,
        instance_url=value.get("instance_url"),
        organization_id=value.get("organization_id"),
    )


async def integration_names(engine: AsyncEngine) -> list[str]:
    """The names of every stored integration, sorted."""
    key = tables.sync_state.c.key
    async with engine.connect() as conn:
        rows = await conn.execute(sa.select(key).where(key.like(f"{_PREFIX}%")).order_by(key))
        return [str(row[0]).removeprefix(_PREFIX) for row in rows]


async def require_integration(store: PeopleStore, name: str) -> None:
    """Raise NotFoundError unless an integration called ``name`` is connected."""
    if await store.get_state(f"integration:{name}") is None:
        raise NotFoundError(
            "no Salesforce integration has this name",
            record=name,
            field="integration",
            hint="connect one first: peoplesync salesforce connect ...",
            web_hint="connect one first: Salesforce, then Connect (/salesforce/connect); "
            "GET /api/v1/integrations lists the connected ones",
        )
