"""Writing rows into a data extension: small batches through the synchronous rowset API,
larger ones through the async API, in batches; times converted to the server's UTC-6.

Rows are checked against the extension first: a row with an unknown column, a missing key
or a value too long is reported (record and field named) and the others are written. If
Marketing Cloud refuses a synchronous batch, its rows are sent one by one so one bad row does
not lose the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from peoplesync.errors import MissingMandatoryAttributeError, RecordError, ValidationError
from peoplesync.marketing_cloud.api_errors import (
    MarketingCloudRequestError,
    MarketingCloudUnavailableError,
)
from peoplesync.marketing_cloud.client import MarketingCloudClient, Sleep
from peoplesync.marketing_cloud.data_extensions import Column, DataExtension, FieldType
from peoplesync.marketing_cloud.server_time import server_time

SYNC_LIMIT = 50  # Marketing Cloud's advice for one synchronous rowset call
ASYNC_MAX = 32_000  # the async API's hard limit per request
_TEXTUAL = (FieldType.TEXT, FieldType.EMAIL, FieldType.PHONE, FieldType.LOCALE)

Row = dict[str, str | None]


@dataclass(frozen=True)
class WritePolicy:
    """Batch sizes and how to wait for async requests."""

    sync_limit: int = SYNC_LIMIT
    async_batch: int = 5_000
    poll_interval: float = 0.5
    poll_attempts: int = 120
    concurrent_batches: int = 2  # async requests in flight at once


@dataclass(frozen=True)
class WriteOutcome:
    """How many rows were written, how, and which rows were refused (and why)."""

    written: int
    mode: str  # "sync", "async" or "none"
    batches: int
    errors: tuple[RecordError, ...] = ()


def _text(value: object) -> str | None:
    if value is None or type(value) is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return server_time(value)
    if isinstance(value, int | float | Decimal):
        return str(value)
    return str(value)


def row_name(extension: DataExtension, row: Mapping[str, object], index: int) -> str:
    """How a row is named in errors: its primary key values, else its position."""
    lowered = {name.lower(): value for name, value in row.items()}
    keys = [str(lowered.get(name.lower())) for name in extension.primary_key]
    if keys and all(value != "None" for value in keys):
        return f"{extension.key}[{'/'.join(keys)}]"
    return f"{extension.key} row {index + 1}"


def _columns(extension: DataExtension) -> dict[str, Column]:
    return {column.name.lower(): column for column in extension.columns}


def prepare_row(
    extension: DataExtension,
    row: Mapping[str, object],
    index: int,
    columns: Mapping[str, Column] | None = None,
    keys: tuple[str, ...] | None = None,
) -> Row:
    """A row as Marketing Cloud wants it (its column names, texts, server times), or a
    ``RecordError`` naming the row and field."""
    columns = columns if columns is not None else _columns(extension)
    prepared: Row = {}
    for given, value in row.items():
        column = columns.get(given.lower())
        if column is None:
            raise ValidationError(
                "no such column in the data extension",
                record=row_name(extension, row, index),
                field=given,
            )
        text = _text(value)
        if column.type in _TEXTUAL and column.length and text and len(text) > column.length:
            raise ValidationError(
                f"{len(text)} characters, at most {column.length} fit",
                record=row_name(extension, row, index),
                field=given,
            )
        prepared[column.name] = text
    for name in keys if keys is not None else extension.primary_key:
        if not prepared.get(name):
            raise MissingMandatoryAttributeError(
                "primary key missing", record=row_name(extension, row, index), field=name
            )
    return prepared


def prepare_rows(
    extension: DataExtension, rows: Sequence[Mapping[str, object]]
) -> tuple[list[Row], list[RecordError]]:
    """Pure: the rows to send and the refused ones."""
    columns, keys = _columns(extension), extension.primary_key
    good: list[Row] = []
    refused: list[RecordError] = []
    for index, row in enumerate(rows):
        try:
            good.append(prepare_row(extension, row, index, columns, keys))
        except RecordError as error:
            refused.append(error)
    return good, refused


def rowset_item(extension: DataExtension, row: Row) -> dict[str, Any]:
    """``{"keys": {...}, "values": {...}}`` for the synchronous API."""
    keys = set(extension.primary_key)
    return {
        "keys": {name: value for name, value in row.items() if name in keys},
        "values": {name: value for name, value in row.items() if name not in keys},
    }


def last_per_key(extension: DataExtension, rows: Sequence[Row]) -> list[Row]:
    """One row per primary key, the last given (what the upserts in order would leave), so
    batches in flight at once never hold the same row."""
    keys = extension.primary_key
    if not keys:
        return list(rows)
    latest: dict[tuple[str | None, ...], Row] = {}
    for row in rows:
        identity = tuple(row.get(name) for name in keys)
        latest.pop(identity, None)
        latest[identity] = row
    return list(latest.values())


def batches(rows: Sequence[Row], size: int) -> list[Sequence[Row]]:
    return [rows[start : start + size] for start in range(0, len(rows), size)]


async def _write_sync(
    client: MarketingCloudClient, extension: DataExtension, rows: Sequence[Row]
) -> tuple[int, list[RecordError]]:
    """One rowset call; if it is refused, row by row, so one bad row loses nothing else."""
    if len(rows) > 1:
        try:
            await client.upsert_rowset(extension.key, [rowset_item(extension, row) for row in rows])
            return len(rows), []
        except MarketingCloudRequestError:
            pass
    written, refused = 0, list[RecordError]()
    for index, row in enumerate(rows):
        try:
            await client.upsert_rowset(extension.key, [rowset_item(extension, row)])
            written += 1
        except MarketingCloudRequestError as error:
            refused.append(
                MarketingCloudRequestError(
                    error.detail, record=row_name(extension, row, index), status=error.status
                )
            )
    return written, refused


async def _write_async(
    client: MarketingCloudClient,
    extension: DataExtension,
    rows: Sequence[Row],
    policy: WritePolicy,
    sleep: Sleep,
) -> tuple[int, list[RecordError]]:
    request_id = await client.upsert_async(extension.key, list(rows))
    for _ in range(policy.poll_attempts):
        status = await client.async_status(request_id)
        state = status.get("requestStatus")
        if state in ("Complete", "Error"):
            break
        await sleep(policy.poll_interval)
    else:
        raise MarketingCloudUnavailableError(
            f"async request {request_id} into {extension.key} not complete after "
            f"{policy.poll_attempts} polls"
        )
    if not status.get("hasErrors") and state == "Complete":
        return len(rows), []
    failures = await client.async_errors(request_id)
    if state == "Error" and not failures:
        failed = MarketingCloudRequestError(
            f"async request {request_id} ended in Error without item results",
            record=f"{extension.key} async request {request_id} ({len(rows)} rows)",
            status=200,
        )
        return 0, [failed]
    refused: list[RecordError] = [
        MarketingCloudRequestError(
            f"{item.get('errorCode', 'Error')}: {item.get('message', '')}",
            record=f"{extension.key} async request {request_id}",
            status=200,
        )
        for item in failures
    ]
    return max(0, len(rows) - len(failures)), refused


async def write_rows(
    client: MarketingCloudClient,
    extension: DataExtension,
    rows: Sequence[Mapping[str, object]],
    policy: WritePolicy | None = None,
    sleep: Sleep = asyncio.sleep,
) -> WriteOutcome:
    """Upsert ``rows`` into ``extension``: one rowset call below ``sync_limit`` rows, async
    batches from there (one row per primary key, the last given; ``written`` counts those).
    Throttling and 5xx are retried by the client; if it gives up,
    ``MarketingCloudUnavailableError`` is raised once every batch has ended, and batches
    already written stay written (upserts, so writing them again is harmless)."""
    policy = policy or WritePolicy()
    good, refused = prepare_rows(extension, rows)
    if not good:
        return WriteOutcome(0, "none", 0, tuple(refused))
    if len(good) < policy.sync_limit:
        written, failed = await _write_sync(client, extension, good)
        return WriteOutcome(written, "sync", 1, tuple(refused + failed))
    size = max(1, min(policy.async_batch, ASYNC_MAX))
    parts = batches(last_per_key(extension, good), size)
    gate = asyncio.Semaphore(max(1, policy.concurrent_batches))

    async def one(part: Sequence[Row]) -> tuple[int, list[RecordError]]:
        async with gate:
            return await _write_async(client, extension, part, policy, sleep)

    written = 0
    # every batch runs to its end; then the first failure, if any, is raised
    for result in await asyncio.gather(*(one(part) for part in parts), return_exceptions=True):
        if isinstance(result, BaseException):
            raise result
        written += result[0]
        refused.extend(result[1])
    return WriteOutcome(written, "async", len(parts), tuple(refused))
