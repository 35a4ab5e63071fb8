"""Pure pieces of an inbound read: which records a batch of change events names, the query
that reads them back, and the position (cursor and tally) a batch commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from peoplesync.salesforce.soql import guard_where, select, soql
from peoplesync.sync.inbound.cursor import Cursor, advance, position
from peoplesync.sync.inbound.step import InboundStep

CHANGES_FOLLOWED = ("CREATE", "UPDATE", "DELETE", "UNDELETE")


def changed_ids(events: Sequence[dict[str, Any]]) -> list[str]:
    """The record ids the Change Data Capture events name (sorted, each once)."""
    return sorted(
        {
            record_id
            for event in events
            if event["data"]["payload"]["ChangeEventHeader"]["changeType"] in CHANGES_FOLLOWED
            for record_id in event["data"]["payload"]["ChangeEventHeader"]["recordIds"]
        }
    )


def read_back_query(step: InboundStep, ids: Sequence[str]) -> str:
    """The SOQL reading the named records back (deleted ones too) with the step's fields,
    limited by its filter."""
    where = soql("Id IN {}", list(ids))
    if step.condition:
        where += f" AND ({guard_where(step.condition)})"
    fields = list(dict.fromkeys(["Id", "SystemModstamp", *step.fields()]))
    return select(step.sobject, fields, where=where)


def next_position(
    cursor: Cursor | None,
    everything: list[dict[str, Any]],
    state: tuple[str, dict[str, Any]] | None,
    tally: int,
    cursor_key: str,
    *,
    keep_tally: bool,
) -> tuple[Cursor | None, tuple[str, dict[str, Any]] | None, int]:
    """The cursor after a batch, the state to commit with it (``state`` when the caller
    gave one) and the tally that state holds; the tally becomes the runner's once the
    batch is committed. With ``keep_tally`` records past the batch's starting position are
    new to this read; those at or before it came back in the overlap and were counted when
    first read."""
    if state is not None:
        return cursor, state, tally
    new_cursor = advance(cursor, everything)
    if new_cursor is None:
        return None, None, tally
    stored: dict[str, Any] = dict(new_cursor.to_json())
    if keep_tally:
        tally += sum(1 for r in everything if cursor is None or position(r) > cursor)
        stored["read"] = tally
    return new_cursor, (cursor_key, stored), tally


__all__ = ["changed_ids", "next_position", "read_back_query"]
