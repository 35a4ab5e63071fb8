"""Our Salesforce client pointed at an in-process sandbox org."""

from __future__ import annotations

from typing import Any

import httpx

from peoplesync.salesforce.auth import Authenticator, PasswordCredentials
from peoplesync.salesforce.client import SalesforceClient
from tests.integration.sandbox.conftest import BASE, Org


def client_for(org: Org, http: httpx.AsyncClient, **options: Any) -> SalesforceClient:
    """A client logging in to ``org`` with the password flow over ``http``."""
    config = org.config
    credentials = PasswordCredentials(
        config.client_id, config.client_secret, config.username, config.password
    )
    return SalesforceClient(http, Authenticator(http, BASE, credentials), **options)


def asgi_http(org: Org) -> httpx.AsyncClient:
    """An HTTP client that talks to the org in-process."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=org.app), base_url=BASE)
