"""Bulk API 2.0 query jobs: create, poll with backoff, stream the CSV pages as REST-like records.

Every call goes through ``SalesforceClient.request``, so retries, the one re-login on an
expired session and API-call counting apply as for REST. Results are read one page
(``maxRecords`` rows) at a time and parsed row by row; the whole result is never held.

Records look like REST query records without ``attributes``: an empty CSV field is ``None``,
``Account.Name`` becomes ``{"Account": {"Name": ...}}`` (or ``{"Account": None}`` when every
selected field of the relationship is empty, as REST gives for a missing related record), and
values stay strings unless ``types`` names a field's type (see ``field_types``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from peoplesync.salesforce.client import SalesforceClient
from peoplesync.salesforce.failure import (
    RETRYABLE_CODES,
    SalesforceError,
    SalesforceRequestError,
    SalesforceUnavailableError,
)

PAGE_SIZE = 50_000
_INTEGER_TYPES = frozenset({"int", "integer", "long"})
_NUMBER_TYPES = frozenset({"double", "currency", "percent"})


class BulkJobFailedError(SalesforceRequestError):
    """A Bulk API 2.0 job ended ``Failed`` or ``Aborted``; ``error_code`` comes from its message."""

    def __init__(self, message: str, *, error_code: str, job_id: str, state: str) -> None:
        super().__init__(message, error_code=error_code)
        self.job_id = job_id
        self.state = state


def job_error(info: Mapping[str, Any]) -> SalesforceError:
    """The exception for a query job that ended ``Failed`` or ``Aborted``.

    Salesforce writes ``errorMessage`` as ``"CODE : text"`` (``InvalidBatch : ...``); the code
    is kept, and a job that failed for a transient reason (``QUERY_TIMEOUT``...) is retryable.
    """
    job_id, state = str(info.get("id", "")), str(info.get("state", ""))
    message = str(info.get("errorMessage") or "")
    head, separator, _ = message.partition(" : ")
    if separator and head.strip() and " " not in head.strip():
        code = head.strip()
    else:
        code = "JOB_ABORTED" if state == "Aborted" else "JOB_FAILED"
    text = f"Bulk query job {job_id} {state.lower()}" + (f": {message}" if message else "")
    if code in RETRYABLE_CODES:
        return SalesforceUnavailableError(text, error_code=code)
    return BulkJobFailedError(text, error_code=code, job_id=job_id, state=state)


def _kind(soap_or_field_type: str) -> str:
    """``xsd:dateTime`` or ``datetime`` -> ``datetime``: one spelling for both describe keys."""
    return soap_or_field_type.rpartition(":")[2].lower()


def convert(value: str, kind: str | None) -> Any:
    """One CSV field as REST JSON would give it (``kind``: a describe ``type`` or ``soapType``)."""
    if value == "":
        return None
    if kind is None:
        return value
    kind = _kind(kind)
    if kind == "boolean":
        return value.lower() == "true"
    if kind in _INTEGER_TYPES:
        return int(value)
    if kind in _NUMBER_TYPES:
        return float(value)
    if kind == "datetime" and value.endswith("Z"):
        return value[:-1] + "+0000"  # REST writes the offset, Bulk CSV writes Z
    return value


def _converter(kind: str | None) -> Callable[[str], Any]:
    """``convert`` with ``kind`` fixed, resolved once per column instead of once per value."""
    if kind is None:
        return _text
    kind = _kind(kind)
    if kind == "boolean":
        return _boolean
    if kind in _INTEGER_TYPES:
        return _integer
    if kind in _NUMBER_TYPES:
        return _number
    if kind == "datetime":
        return _datetime
    return _text


def _text(value: str) -> str | None:
    return value if value != "" else None


def _boolean(value: str) -> bool | None:
    return value.lower() == "true" if value != "" else None


def _integer(value: str) -> int | None:
    return int(value) if value != "" else None


def _number(value: str) -> float | None:
    return float(value) if value != "" else None


def _datetime(value: str) -> str | None:
    if value == "":
        return None
    return value[:-1] + "+0000" if value.endswith("Z") else value


class RecordShape:
    """How the columns of a result header turn into a nested record."""

    def __init__(self, header: Sequence[str], types: Mapping[str, str] | None = None) -> None:
        lowered = {k.lower(): v for k, v in (types or {}).items()}
        self.paths = [tuple(column.split(".")) for column in header]
        self.kinds = [
            _kind(kind) if (kind := lowered.get(column.lower())) else None for column in header
        ]
        self.nested = any(len(path) > 1 for path in self.paths)
        converters = [_converter(kind) for kind in self.kinds]
        self._flat = [
            (path[0], convert_one) for path, convert_one in zip(self.paths, converters, strict=True)
        ]
        # Columns of a relationship, grouped by its first part: (top, [(path rest, convert)]).
        self._top = [
            (index, path[0], convert_one)
            for index, (path, convert_one) in enumerate(zip(self.paths, converters, strict=True))
            if len(path) == 1
        ]
        self._deep = [
            (index, path, convert_one)
            for index, (path, convert_one) in enumerate(zip(self.paths, converters, strict=True))
            if len(path) > 1
        ]
        self._width = len(header)

    def record(self, row: Sequence[str]) -> dict[str, Any]:
        """The record for one CSV row."""
        if len(row) != self._width:
            raise ValueError(f"a CSV row has {len(row)} fields, the header {self._width}")
        if not self.nested:
            return {
                name: convert_one(value)
                for (name, convert_one), value in zip(self._flat, row, strict=True)
            }
        record: dict[str, Any] = {name: convert_one(row[i]) for i, name, convert_one in self._top}
        for index, path, convert_one in self._deep:
            target = record
            for part in path[:-1]:
                target = target.setdefault(part, {})
            target[path[-1]] = convert_one(row[index])
        for key, child in record.items():
            if isinstance(child, dict):
                record[key] = _empty_to_none(child)
        return record


def _empty_to_none(node: dict[str, Any]) -> dict[str, Any] | None:
    for key, child in node.items():
        if isinstance(child, dict):
            node[key] = _empty_to_none(child)
    return None if all(v is None for v in node.values()) else node


def parse_page(text: str, types: Mapping[str, str] | None = None) -> Iterator[dict[str, Any]]:
    """Records of one CSV results page, parsed lazily row by row."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        return
    shape = RecordShape(header, types)
    for row in reader:
        if row:
            yield shape.record(row)


class BulkQuery:
    """Bulk API 2.0 queries through a ``SalesforceClient`` (its retries, session and counting)."""

    def __init__(
        self,
        client: SalesforceClient,
        *,
        page_size: int = PAGE_SIZE,
        first_poll_seconds: float = 0.2,
        max_poll_seconds: float = 5.0,
        max_wait_seconds: float = 3600.0,
    ) -> None:
        self.client = client
        self.page_size = page_size
        self.first_poll_seconds = first_poll_seconds
        self.max_poll_seconds = max_poll_seconds
        self.max_wait_seconds = max_wait_seconds

    @property
    def jobs(self) -> str:
        """The path of query jobs for the client's API version."""
        return f"{self.client.base}/jobs/query"

    async def start(self, soql: str, *, include_deleted: bool = False) -> str:
        """Create a query job (``queryAll`` with ``include_deleted``); returns its id."""
        body = {
            "operation": "queryAll" if include_deleted else "query",
            "query": soql,
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        }
        response = await self.client.request("POST", self.jobs, json=body)
        return str(response.json()["id"])

    async def wait(self, job_id: str) -> dict[str, Any]:
        """Poll the job with backoff until ``JobComplete``; returns its JobInfo.

        Raises ``BulkJobFailedError`` (or a retryable error) when the job fails or is aborted,
        and aborts the job and raises ``SalesforceUnavailableError`` after ``max_wait_seconds``.
        """
        delay = self.first_poll_seconds
        waited = 0.0
        while True:
            await self.client.sleep(delay)
            waited += delay
            info = await self.info(job_id)
            state = info.get("state")
            if state == "JobComplete":
                return info
            if state in ("Failed", "Aborted"):
                raise job_error(info)
            if waited >= self.max_wait_seconds:
                await self.abort(job_id)
                raise SalesforceUnavailableError(
                    f"Bulk query job {job_id} still {state} after {waited:.0f} s",
                    error_code="QUERY_TIMEOUT",
                )
            delay = min(self.max_poll_seconds, delay * 2)

    async def abort(self, job_id: str) -> None:
        """Ask Salesforce to stop a query job."""
        await self.client.request("PATCH", f"{self.jobs}/{job_id}", json={"state": "Aborted"})

    async def info(self, job_id: str) -> dict[str, Any]:
        """A query job's JobInfo (``state``, ``numberRecordsProcessed``...)."""
        body: dict[str, Any] = (await self.client.request("GET", f"{self.jobs}/{job_id}")).json()
        return body

    async def page(self, job_id: str, locator: str | None = None) -> tuple[str, str | None]:
        """One results page (None: the first) as CSV text, and the locator of the next page.

        Locators stay valid while the job's results are kept, so a reader that remembers the
        locator of the page it was on can come back to it (after a crash, say).
        """
        params = {"maxRecords": str(self.page_size)}
        if locator:
            params["locator"] = locator
        response = await self.client.request(
            "GET",
            f"{self.jobs}/{job_id}/results",
            params=params,
            headers={"Accept": "text/csv"},
        )
        following = response.headers.get("sforce-locator")
        return response.content.decode("utf-8-sig"), (
            None if not following or following == "null" else following
        )

    async def pages(self, job_id: str) -> AsyncIterator[str]:
        """The CSV text of each results page of a complete job, following ``Sforce-Locator``."""
        locator: str | None = None
        while True:
            text, locator = await self.page(job_id, locator)
            yield text
            if locator is None:
                return

    async def records(
        self, job_id: str, *, types: Mapping[str, str] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every record of a complete job, one page in memory at a time."""
        async for text in self.pages(job_id):
            for record in parse_page(text, types):
                yield record

    async def query(
        self,
        soql: str,
        *,
        include_deleted: bool = False,
        types: Mapping[str, str] | None = None,
        on_total: Callable[[int], Any] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every record of a SOQL query run as a Bulk job (like ``SalesforceClient.query``).

        ``on_total`` hears the job's ``numberRecordsProcessed`` once it is complete.
        """
        job_id = await self.start(soql, include_deleted=include_deleted)
        info = await self.wait(job_id)
        if on_total is not None:
            on_total(int(info.get("numberRecordsProcessed") or 0))
        async for record in self.records(job_id, types=types):
            yield record


async def field_types(
    client: SalesforceClient, sobject: str, columns: Iterable[str]
) -> dict[str, str]:
    """Describe ``type`` of each column (``Email``, ``Account.Name``), for ``BulkQuery`` ``types``.

    Relationship columns follow ``relationshipName`` to the first ``referenceTo`` object.
    Describes are cached by the client, so this costs one call per object at most. Columns
    that cannot be resolved are left out (their values stay strings).
    """
    found: dict[str, str] = {}
    for column in columns:
        current = sobject
        parts = column.split(".")
        kind: str | None = None
        for index, part in enumerate(parts):
            fields = (await client.describe(current)).get("fields", [])
            wanted = part.lower()
            if index == len(parts) - 1:
                match = next((f for f in fields if str(f.get("name", "")).lower() == wanted), None)
                kind = str(match["type"]) if match else None
                break
            relation = next(
                (
                    f
                    for f in fields
                    if str(f.get("relationshipName") or "").lower() == wanted
                    and f.get("referenceTo")
                ),
                None,
            )
            if relation is None:
                break
            current = str(relation["referenceTo"][0])
        if kind is not None:
            found[column] = kind
    return found
