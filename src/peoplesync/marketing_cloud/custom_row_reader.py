"""Reading one contact's row of a custom data extension while Journey Builder waits.

One client per business unit (its token kept between calls); the answer's keys and values
come back as one mapping with Marketing Cloud's lower-cased names. A unit whose secrets
change gets a new client: clients are keyed by the unit's name and client id.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

import httpx

from peoplesync.marketing_cloud.client import MarketingCloudClient, RetryPolicy
from peoplesync.marketing_cloud.custom_rows import RowQuery
from peoplesync.marketing_cloud.units import UnitKeys

# Journey Builder waits for the answer (20 s at most): two quick tries, then a status.
QUICK = RetryPolicy(attempts=2, base_delay=0.2, max_delay=1.0)


class CustomRowReader:
    """``row(unit, query)``: the contact's row, or None when the extension has none."""

    def __init__(self, http: httpx.AsyncClient | None = None, *, ca_cert: str | None = None):
        self._http = http  # None: one is opened at the first read (trusting ``ca_cert``)
        self._ca_cert = ca_cert
        self._clients: dict[tuple[str, str, str], MarketingCloudClient] = {}

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            verify: ssl.SSLContext | bool = (
                ssl.create_default_context(cafile=self._ca_cert) if self._ca_cert else True
            )
            self._http = httpx.AsyncClient(verify=verify, timeout=5.0)
        return self._http

    async def row(self, unit: UnitKeys, query: RowQuery) -> Mapping[str, Any] | None:
        key = (unit.info.name, unit.info.client_id, unit.info.auth_url)
        client = self._clients.get(key)
        if client is None:
            if len(self._clients) > 100:
                self._clients.clear()
            client = self._clients[key] = MarketingCloudClient(
                unit.info.auth_url,
                unit.info.client_id,
                unit.client_secret,
                unit.info.mid,
                self._client(),
                retry=QUICK,
            )
        answer = await client.read_rows(query.extension, where=query.where, page_size=1)
        items = answer.get("items") or []
        if not items or not isinstance(items[0], Mapping):
            return None
        first = items[0]
        return {**(first.get("keys") or {}), **(first.get("values") or {})}
