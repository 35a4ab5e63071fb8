"""A dry run of a push: the client that answers writes itself, and what the preview shows.

``PreviewClient`` is a ``SalesforceApi`` whose collection writes never reach Salesforce:
it answers them from the object's describe (unknown or read-only fields, required fields on
create, over-long texts, malformed emails become the error Salesforce would give) and keeps
what would have been sent. Reads (the email lookups, describe, converted-lead checks) go to
the org as usual. The outbound runner, run with ``dry_run``, takes its normal path over it
and commits nothing, so the preview plans exactly what a push would do.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import httpx

from peoplesync.errors import ConfigurationError
from peoplesync.salesforce.api import SalesforceApi
from peoplesync.sync.outbound.runner import OutboundReport

SAMPLES = 5
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def required_on_create(describe: Mapping[str, Any]) -> list[str]:
    """Fields a new record cannot be created without: createable, not nillable and not
    defaulted on create (booleans always have a value)."""
    return [
        str(meta["name"])
        for meta in describe.get("fields", [])
        if meta.get("createable")
        and not meta.get("nillable")
        and not meta.get("defaultedOnCreate")
        and meta.get("type") != "boolean"
    ]


def predicted_error(
    describe: Mapping[str, Any], values: Mapping[str, Any], *, creating: bool
) -> dict[str, Any] | None:
    """The error Salesforce would answer for a record with ``values``, or None."""
    fields = {str(meta["name"]).lower(): meta for meta in describe.get("fields", [])}
    for name, value in values.items():
        if name == "Id":
            continue
        meta = fields.get(name.lower())
        if meta is None:
            return _error("INVALID_FIELD", f"No such column '{name}'", name)
        if not meta.get("createable" if creating else "updateable"):
            return _error("INVALID_FIELD_FOR_INSERT_UPDATE", f"{name} is read-only", name)
        if isinstance(value, str):
            length = int(meta.get("length") or 0)
            texts = ("string", "textarea", "email", "phone", "url", "picklist")
            if meta.get("type") in texts and length and len(value) > length:
                return _error(
                    "STRING_TOO_LONG", f"{name}: data value too large (max {length})", name
                )
            if meta.get("type") == "email" and value and not _EMAIL.match(value):
                return _error("INVALID_EMAIL_ADDRESS", f"{name}: invalid email address", name)
    if creating:
        missing = [f for f in required_on_create(describe) if values.get(f) in (None, "")]
        if missing:
            return _error(
                "REQUIRED_FIELD_MISSING", f"Required fields are missing: {missing}", *missing
            )
    return None


def _error(code: str, message: str, *fields: str) -> dict[str, Any]:
    return {
        "success": False,
        "errors": [{"statusCode": code, "message": message, "fields": list(fields)}],
    }


class PreviewClient:
    """Reads through the real client; answers the collection writes itself (a SalesforceApi,
    not a subclass: a write that has no answer here cannot slip through to the org)."""

    def __init__(self, client: SalesforceApi) -> None:
        self._client = client
        self.usage = client.usage
        self.sleep = client.sleep
        self.samples: dict[str, list[dict[str, Any]]] = {}
        self._made = 0

    @property
    def base(self) -> str:
        """The real client's REST base path."""
        return self._client.base

    def query(
        self,
        soql: str,
        *,
        include_deleted: bool = False,
        batch_size: int | None = None,
        on_total: Callable[[int], Any] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """The org's records (a read)."""
        return self._client.query(
            soql, include_deleted=include_deleted, batch_size=batch_size, on_total=on_total
        )

    async def describe(self, sobject: str) -> dict[str, Any]:
        """The org's describe of ``sobject`` (a read)."""
        return await self._client.describe(sobject)

    def _keep(self, kind: str, record: Mapping[str, Any]) -> None:
        kept = self.samples.setdefault(kind, [])
        if len(kept) < SAMPLES:
            kept.append(dict(record))

    async def _answer(
        self, sobject: str, records: Sequence[Mapping[str, Any]], *, creating: bool
    ) -> list[dict[str, Any]]:
        describe = await self.describe(sobject)
        results: list[dict[str, Any]] = []
        for record in records:
            error = predicted_error(describe, record, creating=creating)
            if error is not None:
                results.append(error)
                continue
            self._keep(f"{'create' if creating else 'update'} {sobject}", record)
            self._made += 1
            record_id = str(record.get("Id") or f"preview{self._made:013d}")
            results.append({"id": record_id, "success": True, "errors": []})
        return results

    async def create_many(
        self,
        sobject: str,
        records: Sequence[Mapping[str, Any]],
        *,
        all_or_none: bool = False,
        retry_unsure: bool = True,
    ) -> list[dict[str, Any]]:
        """What a create would answer (nothing is sent)."""
        return await self._answer(sobject, records, creating=True)

    async def update_many(
        self, sobject: str, records: Sequence[Mapping[str, Any]], *, all_or_none: bool = False
    ) -> list[dict[str, Any]]:
        """What an update would answer (nothing is sent)."""
        return await self._answer(sobject, records, creating=False)

    async def upsert_many(
        self,
        sobject: str,
        external_id_field: str,
        records: Sequence[Mapping[str, Any]],
        *,
        all_or_none: bool = False,
    ) -> list[dict[str, Any]]:
        """What an upsert would answer, as a create (nothing is sent)."""
        return await self._answer(sobject, records, creating=True)

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
        """Reads only: a write that did not come through the methods above (a Bulk API job,
        say) is refused rather than sent."""
        if method != "GET" and not path.rstrip("/").endswith("/composite"):
            raise ConfigurationError(
                f"a preview does not send {method} {path}",
                hint="this is a bug in the preview: report it",
            )
        return await self._client.request(
            method,
            path,
            json=json,
            content=content,
            params=params,
            headers=headers,
            wait_seconds=wait_seconds,
            retry_unsure=retry_unsure,
        )

    async def delete_many(
        self, ids: Sequence[str], *, all_or_none: bool = False
    ) -> list[dict[str, Any]]:
        """What a delete would answer (nothing is sent)."""
        for record_id in ids:
            self._keep("delete", {"Id": record_id})
        return [{"id": record_id, "success": True, "errors": []} for record_id in ids]


def preview_summary(report: OutboundReport, client: PreviewClient) -> dict[str, Any]:
    """Counts and samples of what a push would do, for the CLI."""
    return {
        "preview": True,
        "changes": report.changes,
        "persons": report.persons,
        "would_create": report.created,
        "would_update": report.updated,
        "would_delete": report.deleted,
        "would_link_by_email": report.linked,
        "would_forget_links": report.forgotten,
        "would_reject": len(report.errors),
        "unchanged": report.unchanged,
        "steps": report.summary()["steps"],
        "samples": {
            **client.samples,
            "rejected": [
                {"record": e.record, "code": e.code, "field": e.field, "error": e.detail}
                for e in report.errors[:SAMPLES]
            ],
        },
        "api_calls": client.usage.calls,
    }


__all__ = ["PreviewClient", "predicted_error", "preview_summary", "required_on_create"]
