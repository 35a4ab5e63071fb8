"""The Salesforce calls the sync engine makes, as a protocol: the real ``SalesforceClient``
satisfies it, and so does the push preview, which answers writes itself."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, Protocol

import httpx

from peoplesync.salesforce.client import ApiUsage


class SalesforceApi(Protocol):
    """REST reads and sObject Collection writes of one integration, with its call count."""

    usage: ApiUsage
    sleep: Callable[[float], Any]

    @property
    def base(self) -> str:
        """The REST base path of the API version in use."""

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        wait_seconds: float | None = None,
        retry_unsure: bool = True,
    ) -> httpx.Response:
        """One API call."""

    def query(
        self,
        soql: str,
        *,
        include_deleted: bool = False,
        batch_size: int | None = None,
        on_total: Callable[[int], Any] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every record a SOQL query returns, page by page."""

    async def describe(self, sobject: str) -> dict[str, Any]:
        """The object's describe (fields, their types and flags)."""

    async def create_many(
        self,
        sobject: str,
        records: Sequence[Mapping[str, Any]],
        *,
        all_or_none: bool = False,
        retry_unsure: bool = True,
    ) -> list[dict[str, Any]]:
        """Create records; one result per record."""

    async def update_many(
        self, sobject: str, records: Sequence[Mapping[str, Any]], *, all_or_none: bool = False
    ) -> list[dict[str, Any]]:
        """Update records by Id; one result per record."""

    async def upsert_many(
        self,
        sobject: str,
        external_id_field: str,
        records: Sequence[Mapping[str, Any]],
        *,
        all_or_none: bool = False,
    ) -> list[dict[str, Any]]:
        """Create or update records by an external id; one result per record."""

    async def delete_many(
        self, ids: Sequence[str], *, all_or_none: bool = False
    ) -> list[dict[str, Any]]:
        """Delete records by Id; one result per record."""


__all__ = ["SalesforceApi"]
