"""Opening a Salesforce client of a stored integration: its sealed credentials, its login."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx

from peoplesync.people.store import PeopleStore
from peoplesync.salesforce.auth import Authenticator
from peoplesync.salesforce.client import SalesforceClient
from peoplesync.secret_box import SecretBox
from peoplesync.sync.integration import load_integration
from peoplesync.sync.organization import organization_of, record_organization
from peoplesync.sync.profile.step_edits import ClientOpener


@asynccontextmanager
async def open_client(
    box: SecretBox, store: PeopleStore, name: str = "default"
) -> AsyncIterator[SalesforceClient]:
    """A client for the stored integration ``name`` (its HTTP connections closed on exit)."""
    integration = await load_integration(store, box, name)
    verify = ssl.create_default_context(cafile=integration.ca_cert) if integration.ca_cert else True
    async with httpx.AsyncClient(verify=verify, timeout=180) as http:
        client = SalesforceClient(
            http, Authenticator(http, integration.login_url, integration.credentials())
        )
        yield client
        # Integrations stored before org ids were kept learn theirs from this login.
        found = organization_of(client.session.identity_url) if client.session else None
        if integration.organization_id is None and found is not None:
            await record_organization(store, name, found)


def client_opener(box: SecretBox) -> ClientOpener:
    """Opens clients of the integrations whose credentials ``box`` unseals."""

    def opened(store: PeopleStore, name: str) -> AbstractAsyncContextManager[SalesforceClient]:
        return open_client(box, store, name)

    return opened


__all__ = ["client_opener", "open_client"]
