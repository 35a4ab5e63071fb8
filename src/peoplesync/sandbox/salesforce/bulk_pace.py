"""How long a bulk job takes and whether the org fails or aborts it (pure decisions).

An org queues a closed job, then works through its rows at some rate; clients poll while it
does. ``bulk_latency_seconds`` is the time in the queue, ``bulk_rows_per_second`` the rate
of ingest jobs and ``bulk_query_rows_per_second`` that of query jobs (0: as fast as the
sandbox can), and ``rate_bulk_failed`` / ``rate_bulk_aborted`` the shares of
jobs the org ends ``Failed`` or ``Aborted`` itself.
"""

from __future__ import annotations

import random

from peoplesync.sandbox.salesforce.config import FaultKnobs

FAILED_MESSAGE = (
    "InternalServerError : the org failed this job (sandbox fault knob rate_bulk_failed); "
    "submit the rows again in a new job"
)
ABORTED_MESSAGE = (
    "the org aborted this job (sandbox fault knob rate_bulk_aborted); "
    "submit the rows again in a new job"
)


def fate(knobs: FaultKnobs, draw: random.Random) -> str:
    """``Failed``, ``Aborted`` or ``""`` (the job runs), drawn when a job is queued."""
    roll = draw.random()
    if roll < knobs.rate_bulk_failed:
        return "Failed"
    if roll < knobs.rate_bulk_failed + knobs.rate_bulk_aborted:
        return "Aborted"
    return ""


def queued_seconds(knobs: FaultKnobs) -> float:
    """How long a closed job waits before it is InProgress."""
    return max(0.0, knobs.bulk_latency_seconds)


def wait_after(knobs: FaultKnobs, rows_done: int, elapsed: float, *, query: bool = False) -> float:
    """Seconds to wait so that ``rows_done`` rows took at least their share of time (query
    jobs at ``bulk_query_rows_per_second``)."""
    rate = knobs.bulk_query_rows_per_second if query else knobs.bulk_rows_per_second
    if rate <= 0:
        return 0.0
    return max(0.0, rows_done / rate - elapsed)
