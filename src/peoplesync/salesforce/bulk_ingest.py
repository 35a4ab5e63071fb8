"""Bulk API 2.0 ingest jobs: insert, update, upsert and delete from CSV, results per record.

A job is created, its CSV uploaded in one request, closed (``UploadComplete``) and polled with
backoff; then ``failedResults`` (only when the job reports failures), ``successfulResults``
(only when ids are needed: insert and upsert, or when something failed) and, when the job did
not complete, ``unprocessedrecords`` are read. Every call goes through
``SalesforceClient.request`` (retries, one re-login, call counting).

Results come back in the shape of sObject Collections results, one per input record and in
input order, so callers treat both write paths alike: ``{"success": True, "id", "created"}``,
``{"success": False, "errors": [{"statusCode", "message", "fields"}]}``, or ``None`` when the
outcome is unknown (the job failed or was aborted before reporting the record, or polling gave
up): a create whose outcome is unknown must be looked up before it is tried again.

Rows are matched back to records by ``Id`` for update and delete, by the external-id column
for upsert, and by the row's values for insert (identical rows are assigned in order: each
identical record got one of the identical new records).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from peoplesync.salesforce.api import SalesforceApi
from peoplesync.salesforce.client import COLLECTION_SIZE
from peoplesync.salesforce.failure import SalesforceRequestError

OPERATIONS = frozenset({"insert", "update", "upsert", "delete"})
# One upload may hold 100 MB of CSV (150 MB once base64-encoded by Salesforce).
MAX_UPLOAD_BYTES = 100_000_000
# Polls a job of a few thousand to a few hundred thousand records usually needs.
EXPECTED_POLLS = 2
NULL = "#N/A"  # how Bulk CSV sets a field to null (an empty field is left unchanged on update)
_ERROR = re.compile(r"^([A-Z][A-Z0-9_]+):(.*)$", re.DOTALL)
_FIELDS_IN_MESSAGE = re.compile(r"\[([A-Za-z0-9_, ]+)\]")


def collection_calls(records: int) -> int:
    """API calls to write ``records`` with sObject Collections (200 records a call)."""
    return math.ceil(records / COLLECTION_SIZE)


def ingest_calls(operation: str, records: int = 1) -> int:
    """API calls one ingest job is expected to cost when nothing fails.

    Create, upload (one per 100 MB), close, ``EXPECTED_POLLS`` polls, and ``successfulResults``
    when the new ids are needed (insert, upsert); ``failedResults`` is read only when the job
    reports failures, and costs one more call then.
    """
    uploads = max(1, math.ceil(records * 200 / MAX_UPLOAD_BYTES))  # ~200 bytes a row, generous
    return 2 + uploads + EXPECTED_POLLS + (1 if operation in ("insert", "upsert") else 0)


def prefer_bulk(operation: str, records: int) -> bool:
    """Whether an ingest job spends fewer API calls than sObject Collections for ``records``.

    Break-even: an update or delete job costs 5 calls (create, upload, close, two polls), the
    same as 1,000 records in Collections, so jobs are used from 1,001 records; an insert or
    upsert job costs 6 (its ids are read back), so from 1,201 records. Below that, Collections
    also answer sooner (no polling), which keeps the push latency low.
    """
    return collection_calls(records) > ingest_calls(operation, records)


def next_poll(
    delay: float,
    waited: float,
    processed: int,
    records: int,
    *,
    first: float,
    longest: float,
    growth: float = 1.5,
) -> float:
    """Seconds to wait before the next status poll of a running job.

    The wait grows by ``growth`` after each poll (up to ``longest``), so a job is seen done at
    most about half its running time late (a doubling wait can be a whole running time late);
    once the job reports some records processed, the wait is cut to about when the job's own
    pace says it ends (10% late, never sooner than ``first``). It is never longer than the
    grown wait; a pace that flatters the job costs a poll or two more near its end.
    """
    grown = min(longest, delay * growth)
    if not 0 < processed < records or waited <= 0:
        return grown
    left = waited * (records - processed) / processed
    return min(grown, max(first, left * 1.1))


def parse_error(text: str) -> dict[str, Any]:
    """A save error (``statusCode``, ``message``, ``fields``) from an ``sf__Error`` value.

    Salesforce writes ``CODE:message`` (``REQUIRED_FIELD_MISSING:Required fields are
    missing: [LastName]:LastName --``); the fields come from the trailing ``:Field1,Field2 --``
    when present, otherwise from a ``[Field]`` list in the message.
    """
    match = _ERROR.match(text.strip())
    if not match:
        return {"statusCode": "UNKNOWN_EXCEPTION", "message": text.strip(), "fields": []}
    code, rest = match.group(1), match.group(2).strip()
    rest = rest.removesuffix("--").rstrip()
    fields: list[str] = []
    message = rest
    head, separator, tail = rest.rpartition(":")
    if separator and re.fullmatch(r"[A-Za-z0-9_, ]*", tail):
        message = head.strip()
        fields = [f.strip() for f in tail.split(",") if f.strip()]
    if not fields:
        found = _FIELDS_IN_MESSAGE.search(message)
        if found:
            fields = [f.strip() for f in found.group(1).split(",") if f.strip()]
    return {"statusCode": code, "message": message or code, "fields": fields}


def _cell(value: Any, operation: str) -> str:
    if value is None:
        return "" if operation == "insert" else NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_csv(records: Sequence[Mapping[str, Any]], operation: str) -> tuple[list[str], bytes]:
    """The header and CSV body for ``records``; fields a record lacks are left empty (not
    written on update), ``None`` becomes ``#N/A`` on update and upsert (set to null)."""
    header = list(dict.fromkeys(name for record in records for name in record))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for record in records:
        writer.writerow(
            [_cell(record[name], operation) if name in record else "" for name in header]
        )
    return header, out.getvalue().encode("utf-8")


@dataclass
class IngestResult:
    """What one job did: one result per input record (None: outcome unknown)."""

    job_id: str
    state: str
    results: list[dict[str, Any] | None] = field(default_factory=list)

    @property
    def unknown(self) -> int:
        """Records whose outcome is unknown."""
        return sum(1 for r in self.results if r is None)


class BulkIngest:
    """Bulk API 2.0 ingest jobs through a ``SalesforceClient``."""

    def __init__(
        self,
        client: SalesforceApi,
        *,
        first_poll_seconds: float = 0.2,
        max_poll_seconds: float = 10.0,
        max_wait_seconds: float = 3600.0,
    ) -> None:
        self.client = client
        self.first_poll_seconds = first_poll_seconds
        self.max_poll_seconds = max_poll_seconds
        self.max_wait_seconds = max_wait_seconds

    @property
    def jobs(self) -> str:
        """The path of ingest jobs for the client's API version."""
        return f"{self.client.base}/jobs/ingest"

    async def run(
        self,
        sobject: str,
        operation: str,
        records: Sequence[Mapping[str, Any]],
        *,
        external_id_field: str | None = None,
    ) -> IngestResult:
        """Write ``records`` with one job (several when the CSV passes 100 MB)."""
        if operation not in OPERATIONS:
            raise ValueError(f"unknown ingest operation {operation}")
        if operation == "upsert" and not external_id_field:
            raise ValueError("an upsert needs external_id_field")
        total = IngestResult("", "JobComplete")
        start = 0
        while start < len(records):
            size = len(records) - start
            header, body = to_csv(records[start:], operation)
            while len(body) > MAX_UPLOAD_BYTES and size > 1:
                size //= 2
                header, body = to_csv(records[start : start + size], operation)
            part = await self._one_job(
                sobject, operation, records[start : start + size], header, body, external_id_field
            )
            total.job_id = total.job_id or part.job_id
            if part.state != "JobComplete":
                total.state = part.state
            total.results += part.results
            start += size
        return total

    async def _one_job(
        self,
        sobject: str,
        operation: str,
        records: Sequence[Mapping[str, Any]],
        header: list[str],
        body: bytes,
        external_id_field: str | None,
    ) -> IngestResult:
        spec: dict[str, Any] = {
            "object": sobject,
            "operation": operation,
            "contentType": "CSV",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        }
        if operation == "upsert":
            spec["externalIdFieldName"] = external_id_field
        job_id = str((await self.client.request("POST", self.jobs, json=spec)).json()["id"])
        # Uploading twice is refused (the data is already there), so it is not retried blindly.
        await self.client.request(
            "PUT",
            f"{self.jobs}/{job_id}/batches",
            content=body,
            headers={"Content-Type": "text/csv"},
            retry_unsure=False,
        )
        await self._close(job_id)
        info = await self.wait(job_id, len(records))
        state = str(info.get("state"))
        failed = int(info.get("numberRecordsFailed") or 0)
        processed = int(info.get("numberRecordsProcessed") or 0)
        complete = state == "JobComplete"
        key = _row_key(operation, header, external_id_field)
        outcomes: dict[Any, deque[dict[str, Any]]] = defaultdict(deque)
        if (
            complete
            and failed == 0
            and operation in ("update", "delete")
            and processed == len(records)
        ):
            # Nothing failed and no ids are needed: the results need not be read.
            return IngestResult(job_id, state, [{"success": True} for _ in records])
        if failed or not complete:
            for row in await self._rows(job_id, "failedResults"):
                error = parse_error(row.get("sf__Error", ""))
                outcomes[key(row)].append({"success": False, "errors": [error]})
        if processed > failed or not complete:
            for row in await self._rows(job_id, "successfulResults"):
                created = row.get("sf__Created", "").lower() == "true"
                record_id = row.get("sf__Id") or row.get("Id")
                outcomes[key(row)].append({"success": True, "id": record_id, "created": created})
        if not complete:
            reason = f"the job ended {state} before this record"
            if info.get("errorMessage"):
                reason += f" ({info['errorMessage']})"
            for row in await self._rows(job_id, "unprocessedrecords"):
                outcomes[key(row)].append(
                    {
                        "success": False,
                        "unprocessed": True,
                        "errors": [
                            {
                                "statusCode": "UNPROCESSED",
                                "message": reason,
                                "fields": [],
                            }
                        ],
                    }
                )
        results: list[dict[str, Any] | None] = []
        for record in records:
            queue = outcomes.get(key(_as_row(record, header, operation)))
            results.append(queue.popleft() if queue else None)
        return IngestResult(job_id, state, results)

    async def _close(self, job_id: str) -> None:
        try:
            await self.client.request(
                "PATCH",
                f"{self.jobs}/{job_id}",
                json={"state": "UploadComplete"},
                retry_unsure=False,
            )
        except SalesforceRequestError:
            # A close whose answer was lost and then repeated is refused: the job moved on.
            if (await self.info(job_id)).get("state") == "Open":
                raise

    async def info(self, job_id: str) -> dict[str, Any]:
        """An ingest job's JobInfo."""
        body: dict[str, Any] = (await self.client.request("GET", f"{self.jobs}/{job_id}")).json()
        return body

    async def abort(self, job_id: str) -> None:
        """Ask Salesforce to stop a job (records already processed stay written)."""
        await self.client.request("PATCH", f"{self.jobs}/{job_id}", json={"state": "Aborted"})

    async def wait(self, job_id: str, records: int = 0) -> dict[str, Any]:
        """Poll with backoff until the job ends (``next_poll``: sooner when the job's progress
        on its ``records`` says it is nearly done); a job still running after
        ``max_wait_seconds`` is aborted. Returns the last JobInfo."""
        delay = self.first_poll_seconds
        waited = 0.0
        while True:
            await self.client.sleep(delay)
            waited += delay
            info = await self.info(job_id)
            if info.get("state") in ("JobComplete", "Failed", "Aborted"):
                return info
            if waited >= self.max_wait_seconds:
                await self.abort(job_id)
                return await self.info(job_id)
            delay = next_poll(
                delay,
                waited,
                int(info.get("numberRecordsProcessed") or 0),
                records,
                first=self.first_poll_seconds,
                longest=self.max_poll_seconds,
            )

    async def _rows(self, job_id: str, kind: str) -> list[dict[str, str]]:
        response = await self.client.request(
            "GET", f"{self.jobs}/{job_id}/{kind}", headers={"Accept": "text/csv"}
        )
        text = response.content.decode("utf-8-sig")
        return list(csv.DictReader(io.StringIO(text, newline="")))


def _as_row(record: Mapping[str, Any], header: list[str], operation: str) -> dict[str, str]:
    return {name: _cell(record[name], operation) if name in record else "" for name in header}


def _row_key(operation: str, header: list[str], external_id_field: str | None) -> Any:
    """How a results row is matched to an input record."""
    if operation in ("update", "delete"):
        return lambda row: str(row.get("Id") or row.get("sf__Id") or "")[:15]
    if operation == "upsert" and external_id_field:
        return lambda row: str(row.get(external_id_field) or "")
    return lambda row: tuple(row.get(name, "") for name in header)


__all__ = [
    "BulkIngest",
    "IngestResult",
    "collection_calls",
    "ingest_calls",
    "next_poll",
    "parse_error",
    "prefer_bulk",
]
