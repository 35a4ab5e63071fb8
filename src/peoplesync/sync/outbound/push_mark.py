"""When a push wrote which fields of a linked record, and which values of a record read
inbound are older than those writes. All pure.

The race: the inbound sync reads a record, a push then writes some of its fields and saves
them as the link's state, and only then does the inbound sync read the link. The record it
holds predates the push, so its values of the pushed fields differ from the state and would
look like Salesforce changes: People would get the older values back until the next read.

So a push marks the fields it wrote in the link's state with the time it sent the write and
the value the field had before (``MARK``: field -> {at, was}, kept with the synced values).
The inbound sync does not apply a marked field from a record whose SystemModstamp (else
LastModifiedDate) is older than or equal to that time and whose value is still the one from
before the write: the record was read before the write landed. A record modified later (the
push's own echo, or a real edit after it) carries a later modstamp and is applied as usual.
The time is taken before the write is sent, so a Salesforce edit made after the write is not
older than it; should the two clocks differ, the value check keeps a real edit to a new value
from being taken for an old read.

A mark keeps every value the field had before the pushes since the last inbound read that
rewrote the link (``were``, the last ``EARLIER_KEPT``): with two pushes between an inbound
read and its read of the link, the record read holds the value from before the first.

A push that dies after Salesforce took an update and before its link (and mark) is committed
leaves the record with the value sent, newer by its modstamp than People's edits made
meanwhile. The values an update sends are therefore saved before it is sent (``updates``);
a record field holding the value a push sent is synced, not a Salesforce change
(``with_sent``), and a later push counts it among the values before its write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from peoplesync.sync.inbound.cursor import parse_modstamp

MARK = "~pushed"  # not a Salesforce field name: API names start with a letter
EARLIER_KEPT = 8  # values before the writes a mark remembers (the newest)


def synced_values(state: Mapping[str, Any]) -> dict[str, Any]:
    """The link's last synced Salesforce values, without the push mark."""
    return {name: value for name, value in state.items() if name != MARK}


def _marks(state: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    mark = state.get(MARK)
    if not isinstance(mark, Mapping):
        return {}
    return {str(name): entry for name, entry in mark.items() if isinstance(entry, Mapping)}


def pushed_at(state: Mapping[str, Any]) -> dict[str, datetime]:
    """When the last push wrote each marked field."""
    return {name: parse_modstamp(str(entry["at"])) for name, entry in _marks(state).items()}


def _were(entry: Mapping[str, Any] | None) -> list[Any]:
    """The values a marked field had before the writes its mark stands for, oldest first
    (a mark written before ``were`` existed has its one ``was``)."""
    if entry is None:
        return []
    were = entry.get("were")
    if isinstance(were, list):
        return list(were)
    return [entry.get("was")] if "was" in entry else []


def marked(
    state: Mapping[str, Any],
    written: Mapping[str, Any],
    sent: datetime,
    unsure: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The state after a push sent ``written`` at ``sent``: the values, and the fields marked
    with the time and their values before (the mark's earlier values kept, then the
    state's, then ``unsure``'s: what an earlier push sent without committing, which may have
    landed); earlier marks of other fields kept."""
    # Salesforce keeps milliseconds: the write's own modstamp is never before this.
    stamp = sent.replace(microsecond=sent.microsecond // 1000 * 1000).isoformat()
    old = _marks(state)
    mark: dict[str, Any] = dict(old)
    for name in written:
        were: list[Any] = []
        earlier = [*_were(old.get(name)), state.get(name)]
        if unsure and name in unsure:
            earlier.append(unsure[name])
        for value in earlier:
            if value in were:
                were.remove(value)
            were.append(value)
        mark[name] = {"at": stamp, "were": were[-EARLIER_KEPT:]}
    return {**synced_values(state), **written, MARK: mark}


def with_sent(
    state: Mapping[str, Any], sent: Mapping[str, Any] | None, record: Mapping[str, Any]
) -> dict[str, Any]:
    """The link's state as synced with what a push sent that the record holds: a field
    whose value in ``record`` is the one sent by a push whose link was not committed then
    (``sent``) took that value from People, not from a Salesforce edit. A field sent that
    the record does not hold (the write did not land, or Salesforce changed it since) is
    left as it was."""
    if not sent:
        return dict(state)
    landed = {
        name: value
        for name, value in sent.items()
        if name != MARK and name in record and record[name] == value
    }
    return {**state, **landed}


def record_time(record: Mapping[str, Any]) -> datetime | None:
    """When the record read was last modified (SystemModstamp, else LastModifiedDate)."""
    value = record.get("SystemModstamp") or record.get("LastModifiedDate")
    return parse_modstamp(str(value)) if value else None


def stale_fields(
    record: Mapping[str, Any], snapshot: Mapping[str, Any], state: Mapping[str, Any]
) -> set[str]:
    """The fields of a record read inbound that hold values from before a push wrote them:
    marked in the link's state at or after the record's modstamp, and still a value from
    before the writes. These are not applied to People."""
    marks = _marks(state)
    modified = record_time(record) if marks else None
    if modified is None:
        return set()
    return {
        name
        for name, entry in marks.items()
        if name in snapshot
        and snapshot[name] != state.get(name)
        and snapshot[name] in _were(entry)
        and modified <= parse_modstamp(str(entry["at"]))
    }


def kept_state(
    snapshot: Mapping[str, Any], state: Mapping[str, Any], stale: Iterable[str]
) -> dict[str, Any]:
    """The state an inbound read saves: the record's values, except the stale fields, which
    keep the pushed value and their mark (a repeated read of the old record skips them
    again; the first read after the write clears the mark)."""
    kept = set(stale)
    if not kept:
        return dict(snapshot)
    marks = state.get(MARK)
    assert isinstance(marks, Mapping)
    return {
        **snapshot,
        **{name: state.get(name) for name in kept},
        MARK: {name: at for name, at in marks.items() if name in kept},
    }


def carried_marks(
    merged: Mapping[str, Any], state: Mapping[str, Any], fields: Iterable[str]
) -> dict[str, Any]:
    """``merged`` with the marks ``state`` has for ``fields`` (values taken from a state a
    push saved keep the time it wrote them)."""
    marks = state.get(MARK)
    wanted = set(fields)
    if not wanted or not isinstance(marks, Mapping):
        return dict(merged)
    own = merged.get(MARK)
    mark = {**(own if isinstance(own, Mapping) else {})}
    mark.update({name: at for name, at in marks.items() if name in wanted})
    return {**merged, MARK: mark} if mark else dict(merged)


__all__ = [
    "EARLIER_KEPT",
    "MARK",
    "carried_marks",
    "kept_state",
    "marked",
    "pushed_at",
    "record_time",
    "stale_fields",
    "synced_values",
    "with_sent",
]
