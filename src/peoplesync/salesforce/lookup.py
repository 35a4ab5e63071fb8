"""Many SOQL lookups in few API calls: ``IN`` lists cut at the SOQL length limit, run as
query subrequests of one Composite call.

A REST ``GET query?q=`` keeps the URI and headers under 16,384 bytes (Salesforce answers
414 beyond), which holds about 200 email addresses. A Composite request carries its
subrequests in the body, so each query can use the SOQL limit (100,000 characters by
default), and the whole request counts as one API call; Salesforce allows 5 query
subrequests in one. A subrequest's URL is also kept under 60,000 characters once
percent-encoded (HTTP stacks commonly refuse URLs of 64 KiB: httpx, and so the sandbox's
subrequest dispatcher, does), which is the tighter bound for email lists. Each query is also
cut at 2,000 values so that, one record a value, its answer fits one page; a larger answer is
followed with ``nextRecordsUrl``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from peoplesync.salesforce.api import SalesforceApi
from peoplesync.salesforce.failure import from_response
from peoplesync.salesforce.soql import literal

SOQL_MAX_CHARS = 100_000
URL_MAX_CHARS = 60_000
QUERIES_PER_COMPOSITE = 5
CONCURRENT_COMPOSITES = 3  # lookup calls in flight at once (Salesforce allows 25 long-running)
VALUES_PER_QUERY = 2_000


# Bytes ``quote_plus`` leaves as one character (a space becomes "+"); any other is "%XX".
_ONE_CHARACTER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~ "


def _encoded_length(text: str) -> int:
    """``len(quote_plus(text))`` without building the quoted text."""
    raw = text.encode("utf-8")
    return len(raw) + 2 * len(raw.translate(None, _ONE_CHARACTER))


def in_batches(
    values: Sequence[str],
    build: Callable[[list[str]], str],
    *,
    max_chars: int = SOQL_MAX_CHARS,
    max_url_chars: int = URL_MAX_CHARS,
    max_values: int = VALUES_PER_QUERY,
) -> list[str]:
    """Queries from ``build(batch)`` over consecutive batches of ``values``: each query at
    most ``max_chars`` long, at most ``max_url_chars`` once encoded as ``q=``, and with at
    most ``max_values`` values."""
    queries: list[str] = []
    batch: list[str] = []
    length = encoded = 0
    for value in values:
        text = literal(value)
        cost, cost_encoded = len(text) + 2, _encoded_length(text) + 4  # ", " / "%2C+"
        if batch and (
            len(batch) >= max_values
            or length + cost > max_chars
            or encoded + cost_encoded > max_url_chars
        ):
            queries.append(build(batch))
            batch = []
        if batch:
            length, encoded = length + cost, encoded + cost_encoded
        else:
            first = build([value])
            length, encoded = len(first), len(urlencode({"q": first}))
        batch.append(value)
    if batch:
        queries.append(build(batch))
    return queries


async def query_many(client: SalesforceApi, queries: Sequence[str]) -> list[dict[str, Any]]:
    """Every record of every query (in the order of the queries), ``QUERIES_PER_COMPOSITE``
    queries a call; up to ``CONCURRENT_COMPOSITES`` calls run side by side, so the org
    answers one while the previous answer is read. Every call has ended when this returns;
    the first failure (in query order) is raised."""
    path = f"{client.base}/query"
    slots = asyncio.Semaphore(CONCURRENT_COMPOSITES)

    async def composite(group: Sequence[str]) -> list[dict[str, Any]]:
        body = {
            "allOrNone": False,
            "compositeRequest": [
                {"method": "GET", "url": f"{path}?{urlencode({'q': q})}", "referenceId": f"q{i}"}
                for i, q in enumerate(group)
            ],
        }
        found: list[dict[str, Any]] = []
        async with slots:
            answer = (await client.request("POST", f"{client.base}/composite", json=body)).json()
            for sub in answer["compositeResponse"]:
                status = int(sub["httpStatusCode"])
                if status >= 300:
                    raise from_response(status, sub.get("body"))
                page = sub["body"]
                found += page["records"]
                while page.get("nextRecordsUrl"):
                    page = (await client.request("GET", page["nextRecordsUrl"])).json()
                    found += page["records"]
        return found

    groups = [
        queries[start : start + QUERIES_PER_COMPOSITE]
        for start in range(0, len(queries), QUERIES_PER_COMPOSITE)
    ]
    answers = await asyncio.gather(*(composite(group) for group in groups), return_exceptions=True)
    records: list[dict[str, Any]] = []
    for answer in answers:
        if isinstance(answer, BaseException):
            raise answer
        records += answer
    return records


__all__ = ["SOQL_MAX_CHARS", "URL_MAX_CHARS", "in_batches", "query_many"]
