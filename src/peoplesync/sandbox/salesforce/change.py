"""What a committed write changed, as handed to the change event log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RecordChange:
    """One record's change in a transaction (the body of a Change Data Capture event)."""

    entity_name: str
    change_type: str  # CREATE | UPDATE | DELETE | UNDELETE
    record_ids: tuple[str, ...]
    changed_fields: tuple[str, ...]
    values: Mapping[str, object]
    commit_user: str


Publisher = Callable[[str, Sequence[RecordChange]], Awaitable[None]]
