"""Where a journey's delivery reports spend their time: per message, the timestamps of each
hop read from the three stores a `journey_run` leaves behind, and their percentiles.

For each contact's Message execute (the Marketing Cloud sandbox's journey steps):

    queued     peoplesync stored the message in its outbox (``created_at``), inside execute
    waiting    the execute was answered and the contact's Wait began (the Wait step's ``at``)
    sent       the provider accepted it (the provider's ``submitted_at``)
    due        the provider's delivery report was due (``report_due``: sent + report delay)
    generated  the provider built the report (its ``doneAt``, kept as ``done_at``)
    stored     peoplesync stored the report (``message_reports.changed_at``)
    answered   the provider had peoplesync's 2xx answer to its post (``report_posted_at``)
    split      the runner called the Reports split for the contact (its step's ``at``)

A contact "got its report in time" when it was stored before its split ran: the split then
answers its final status instead of NOT_AVAILABLE.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HOPS = (
    ("queued", "sent"),
    ("sent", "due"),
    ("due", "generated"),
    ("generated", "stored"),
    ("stored", "answered"),
    ("queued", "stored"),
    ("waiting", "stored"),  # at most the Wait's seconds: in time for the split
    ("waiting", "split"),
)


def _epoch(value: str | None) -> float | None:
    """A peoplesync SQLite time (naive UTC text) as epoch seconds."""
    if not value:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()


def _rows(path: Path, query: str, *params: str) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return list(db.execute(query, params))
    finally:
        db.close()


def timelines(
    peoplesync_db: Path,
    provider_db: Path,
    journeys_db: Path,
    keys: tuple[str, str, str],
) -> list[dict[str, float | None]]:
    """One dict a contact: each hop's epoch time (None where it never happened). ``keys``:
    the journey's Message, Wait and Reports split activities."""
    message_key, wait_key, _ = keys
    message_ids: dict[str, str] = {}
    waits: dict[str, float] = {}
    splits: dict[str, float] = {}
    for contact, activity, at, out in _rows(
        journeys_db,
        "SELECT contact_key, activity, at, out FROM steps"
        " WHERE activity IN (?, ?, ?) AND status IN ('ok', 'waited')",
        *keys,
    ):
        if activity == message_key:
            message_id = (json.loads(out) or {}).get("messageId")
            if message_id:
                message_ids[contact] = str(message_id)
        elif activity == wait_key:
            waits[contact] = at
        else:
            splits[contact] = at
    outbox = {
        mid: (_epoch(created), _epoch(sent))
        for mid, created, sent in _rows(
            peoplesync_db, "SELECT id, created_at, sent_at FROM outbound_messages"
        )
    }
    reports = {
        mid: (_epoch(done), _epoch(changed))
        for mid, done, changed in _rows(
            peoplesync_db, "SELECT message_id, done_at, changed_at FROM message_reports"
        )
    }
    provider = {
        mid: (submitted, due, posted)
        for mid, submitted, due, posted in _rows(
            provider_db,
            "SELECT message_id, submitted_at, report_due, report_posted_at FROM messages",
        )
    }
    out = []
    for contact, mid in message_ids.items():
        queued, _ = outbox.get(mid, (None, None))
        submitted, due, answered = provider.get(mid, (None, None, None))
        generated, stored = reports.get(mid, (None, None))
        out.append(
            {
                "queued": queued,
                "waiting": waits.get(contact),
                "sent": submitted,
                "due": due,
                "generated": generated,
                "stored": stored,
                "answered": answered,
                "split": splits.get(contact),
            }
        )
    return out


def _percentiles(values: Sequence[float]) -> dict[str, float | int | None]:
    ordered = sorted(values)
    if not ordered:
        return {"n": 0, "p50_s": None, "p90_s": None, "p99_s": None, "max_s": None}

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))], 3)

    return {
        "n": len(ordered),
        "p50_s": at(0.5),
        "p90_s": at(0.9),
        "p99_s": at(0.99),
        "max_s": round(ordered[-1], 3),
    }


def hop_summary(lines: Sequence[dict[str, float | None]]) -> dict[str, Any]:
    """Percentiles of each hop (seconds), and how many contacts had their final report
    stored before their Reports split ran."""
    hops: dict[str, Any] = {}
    for first, second in HOPS:
        spans = [
            float(line[second]) - float(line[first])  # type: ignore[arg-type]
            for line in lines
            if line[first] is not None and line[second] is not None
        ]
        hops[f"{first}_to_{second}"] = _percentiles(spans)
    reached = [line for line in lines if line["split"] is not None]
    in_time = sum(
        1
        for line in reached
        if line["stored"] is not None and float(line["stored"]) <= float(line["split"])  # type: ignore[arg-type]
    )
    return {
        "hops": hops,
        "contacts_at_split": len(reached),
        "report_in_time": in_time,
        "report_in_time_share": round(in_time / len(reached), 4) if reached else None,
        "report_never_stored": sum(1 for line in lines if line["stored"] is None),
    }


def stage_rates(lines: Sequence[dict[str, float | None]]) -> dict[str, float | None]:
    """Each stage's mean rate over the run (events per second from its first to its last):
    a stage slower than the executes is where the backlog builds."""
    rates: dict[str, float | None] = {}
    for name in ("queued", "sent", "generated", "stored"):
        times = sorted(float(line[name]) for line in lines if line[name] is not None)  # type: ignore[arg-type]
        span = times[-1] - times[0] if len(times) > 1 else 0.0
        rates[name] = round((len(times) - 1) / span, 1) if span > 0 else None
    return rates
