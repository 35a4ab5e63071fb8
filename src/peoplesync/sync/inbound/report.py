"""What an inbound run did: counts, rejected records in Salesforce's terms, warnings and a
preview's samples by outcome."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from peoplesync.errors import RecordError
from peoplesync.people.model import UpsertResult
from peoplesync.sync.conflict import Conflict
from peoplesync.sync.mapping import FieldMapping


@dataclass
class InboundReport:
    """What a run did."""

    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    rejected: list[RecordError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    deleted: int = 0
    unlinked: int = 0
    merged: int = 0
    # A preview's examples by outcome (create, update, unchanged, reject): record and values.
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Two-way fields changed on both sides since the last sync, with both values and the winner.
    conflicts: list[Conflict] = field(default_factory=list)

    def merge(self, other: InboundReport) -> None:
        """Add what another report (one batch's) holds to this one."""
        self.read += other.read
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.skipped += other.skipped
        self.deleted += other.deleted
        self.unlinked += other.unlinked
        self.merged += other.merged
        self.rejected += other.rejected
        self.warnings += other.warnings
        self.duplicates += other.duplicates
        self.conflicts += other.conflicts
        for outcome, shown in other.samples.items():
            kept = self.samples.setdefault(outcome, [])
            kept += shown[: max(0, SAMPLES - len(kept))]


SAMPLES = 5


def collect_samples(
    report: InboundReport, inputs: Sequence[tuple[str | None, dict[str, Any]]], result: UpsertResult
) -> None:
    """Keep the first few planned records of each outcome in the report (for a preview)."""
    created, updated = set(result.created), set(result.updated)
    rejected = {error.record: error for error in result.rejected}
    for (key, values), entity_id in zip(inputs, result.ids, strict=True):
        if entity_id is None:
            error = rejected.get(key)
            outcome, shown = "reject", {"error": str(error) if error else "rejected"}
        elif entity_id in created:
            outcome, shown = "create", values
        elif entity_id in updated:
            outcome, shown = "update", values
        else:
            outcome, shown = "unchanged", {}
        kept = report.samples.setdefault(outcome, [])
        if len(kept) < SAMPLES:
            kept.append({"record": key, **{k: _plain(v) for k, v in shown.items()}})


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | None) else str(value)


def in_salesforce_terms(error: RecordError, lines: Sequence[FieldMapping]) -> RecordError:
    """The People field of an error replaced by the Salesforce field(s) it came from."""
    attribute = (error.field or "").split("[")[0]
    sources = [line.salesforce_field for line in lines if line.attribute == attribute]
    if not sources:
        return error
    return type(error)(
        f"{error.detail} (People attribute {error.field})",
        record=error.record,
        field=", ".join(sources),
        hint=error.hint,
    )


__all__ = ["InboundReport", "collect_samples", "in_salesforce_terms"]
