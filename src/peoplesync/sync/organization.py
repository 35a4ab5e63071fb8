"""Which Salesforce org an integration is connected to, and the rule that an org is
connected once.

Two integrations on one org would each push People into it and read the other's writes back
as changes of their own (a push's echo is recognised per integration), so records would
multiply without end. Connecting therefore refuses an org another integration holds. An org
is known by its Organization id: the first part of the identity URL a token response names
(``.../id/{organization id}/{user id}``), or else ``organization_id`` from
``/services/oauth2/userinfo``. It is stored with the integration at connect; integrations
stored before that learn theirs at their next login (``connected_client``) or when another
connect has to compare with them (``learn_organization``).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from urllib.parse import urlparse

import httpx

from peoplesync.errors import ConfigurationError, PeopleSyncError
from peoplesync.people.store import PeopleStore
from peoplesync.salesforce.auth import Authenticator
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.secret_box import SecretBox
from peoplesync.sync.integration import Integration, integration_key, load_integration


class OrgAlreadyConnectedError(ConfigurationError):
    """The org is connected already, as another integration; nothing was stored."""

    def __init__(self, organization_id: str, holder: str) -> None:
        super().__init__(
            f"this Salesforce org ({organization_id}) is already connected as integration "
            f"{holder!r}; a second integration on the same org would push the other's "
            "records back as new ones",
            hint=f"reconnect {holder!r} instead (Salesforce -> {holder} -> Reconnect, or "
            f"peoplesync salesforce connect --name {holder} ...), or delete it first "
            f"(peoplesync salesforce delete --name {holder})",
        )
        self.organization_id = organization_id
        self.holder = holder


class OrgChangedError(ConfigurationError):
    """A reconnect logged in to another org than the integration's own."""

    def __init__(self, name: str, stored: str, found: str) -> None:
        super().__init__(
            f"integration {name!r} is connected to the Salesforce org {stored}, and this login "
            f"is to another org ({found}); its links would point to records of the wrong org",
            hint=f"log in to the org {stored} to reconnect {name!r}, or add a new integration "
            "with another name for the other org",
        )


def organization_of(identity_url: str | None) -> str | None:
    """The Organization id in an identity URL (``https://host/id/{org}/{user}``), if any."""
    if not identity_url:
        return None
    parts = urlparse(identity_url).path.strip("/").split("/")
    if len(parts) >= 3 and parts[-3] == "id" and parts[-2]:
        return parts[-2]
    return None


def same_org(first: str, second: str) -> bool:
    """Whether two Organization ids name the same org (15- or 18-character forms)."""
    return first[:15] == second[:15]


def holder_of(organization_id: str, stored: Iterable[tuple[str, str | None]]) -> str | None:
    """The first integration (name, its org id) holding ``organization_id``, if any."""
    return next(
        (name for name, org in stored if org is not None and same_org(org, organization_id)),
        None,
    )


async def client_organization(client: SalesforceClient) -> str:
    """The Organization id of the org ``client`` is logged in to (it logs in if need be)."""
    session = await client.logged_in()
    found = organization_of(session.identity_url)
    if found is None:
        answer = await client.request("GET", "/services/oauth2/userinfo")
        found = str(answer.json().get("organization_id") or "") or None
    if found is None:
        raise ConfigurationError(
            "Salesforce named no organization id for this login (no identity URL, and "
            "userinfo gave none)",
            hint="check that the connected app's scopes include 'api' (or 'openid')",
        )
    return found


async def record_organization(store: PeopleStore, name: str, organization_id: str) -> None:
    """Keep the org id of a stored integration (for integrations stored without one)."""
    value = await store.get_state(integration_key(name))
    if value is not None and value.get("organization_id") != organization_id:
        await store.set_state(integration_key(name), {**value, "organization_id": organization_id})


async def learn_organization(integration: Integration) -> str | None:
    """Log in as a stored integration to learn its org id; None when it cannot log in (a
    revoked integration writes nothing, and its own reconnect is checked in turn)."""
    verify = ssl.create_default_context(cafile=integration.ca_cert) if integration.ca_cert else True
    try:
        async with httpx.AsyncClient(verify=verify, timeout=30) as http:
            client = SalesforceClient(
                http, Authenticator(http, integration.login_url, integration.credentials())
            )
            return await client_organization(client)
    except (PeopleSyncError, OSError, ssl.SSLError):
        return None


async def check_organization(
    store: PeopleStore, box: SecretBox, name: str, organization_id: str, names: list[str]
) -> None:
    """Refuse connecting ``name`` to ``organization_id`` when another of ``names`` holds that
    org, or when ``name`` is stored with another org. Integrations stored without an org id
    are asked for theirs (and keep it)."""
    stored: list[tuple[str, str | None]] = []
    for other in names:
        value = await store.get_state(integration_key(other)) or {}
        org = value.get("organization_id")
        if other == name:
            if org and not same_org(org, organization_id):
                raise OrgChangedError(name, org, organization_id)
            continue
        if not org:
            org = await learn_organization(await load_integration(store, box, other))
            if org:
                await record_organization(store, other, org)
        stored.append((other, org))
    holder = holder_of(organization_id, stored)
    if holder is not None:
        raise OrgAlreadyConnectedError(organization_id, holder)


__all__ = [
    "OrgAlreadyConnectedError",
    "OrgChangedError",
    "check_organization",
    "client_organization",
    "holder_of",
    "learn_organization",
    "organization_of",
    "record_organization",
    "same_org",
]
