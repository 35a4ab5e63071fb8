"""What an outbound pass did (its report), and what one page collects before its commit."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from peoplesync.clock import Clock
from peoplesync.errors import RecordError
from peoplesync.people.model import ExternalLink, Person
from peoplesync.salesforce.failure import SalesforceRecordError
from peoplesync.sync.conflict import Conflict
from peoplesync.sync.outbound.plan import RetryEntry, next_retry
from peoplesync.sync.outbound.step import OutboundStep
from peoplesync.sync.status.state import Counts

# A person whose two-way field lost to a Salesforce change waits for the inbound sync to bring
# that value; it is looked at again on the next pass (see ``OutboundWriter.settle``).
AWAITING_INBOUND = "CONFLICT_SALESFORCE_WINS"
NO_RETRY = RetryEntry(0, datetime.min.replace(tzinfo=UTC), "")


@dataclass
class OutboundReport:
    """What a pass did."""

    changes: int = 0
    persons: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    forgotten: int = 0
    linked: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[RecordError] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    retrying: int = 0
    given_up: int = 0
    # By step label: what each step wrote, the errors of its records and its warnings.
    steps: dict[str, Counts] = field(default_factory=dict)
    step_errors: dict[str, list[RecordError]] = field(default_factory=dict)
    step_duplicates: dict[str, list[str]] = field(default_factory=dict)
    clean: list[str] = field(default_factory=list)  # persons pushed without an error
    conflicts: list[Conflict] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "changes": self.changes,
            "persons": self.persons,
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "forgotten": self.forgotten,
            "linked": self.linked,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "retrying": self.retrying,
            "given_up": self.given_up,
            "duplicates": self.duplicates[:20],
            "steps": {
                name: {
                    "created": c.created,
                    "updated": c.updated,
                    "deleted": c.deleted,
                    "rejected": c.rejected,
                }
                for name, c in self.steps.items()
            },
            "conflicts": [c.to_json() for c in self.conflicts[:50]],
            "errors": [
                {
                    "record": e.record,
                    "code": e.code,
                    "field": e.field,
                    "error": e.detail,
                    "hint": e.hint,
                }
                for e in self.errors[:50]
            ],
        }


@dataclass
class PageWork:
    """What one page collects before it is committed."""

    links: list[ExternalLink] = field(default_factory=list)
    retries: dict[str, RetryEntry] = field(default_factory=dict)
    # Persons whose saved create attempt is done with once the page is committed.
    settled: list[str] = field(default_factory=list)
    # Records whose saved update attempt (fields) is done with once the page is committed.
    sent: dict[str, set[str]] = field(default_factory=dict)


@contextmanager
def tally(step: OutboundStep, report: OutboundReport) -> Iterator[None]:
    """Credit what the report gains inside the block to ``step``."""
    before = (report.created, report.updated, report.deleted)
    errors, duplicates = len(report.errors), len(report.duplicates)
    try:
        yield
    finally:
        gained = Counts(
            report.created - before[0],
            report.updated - before[1],
            report.deleted - before[2],
            len(report.errors) - errors,
        )
        report.steps[step.label] = report.steps.get(step.label, Counts()) + gained
        report.step_errors.setdefault(step.label, []).extend(report.errors[errors:])
        report.step_duplicates.setdefault(step.label, []).extend(report.duplicates[duplicates:])


def record_failure(
    clock: Clock,
    person: Person | str,
    target: str,
    result: Mapping[str, Any],
    report: OutboundReport,
    work: PageWork,
    *,
    record: str | None = None,
) -> None:
    """A record Salesforce rejected: an error entry with its code, field and fix hint,
    and a retry later (with backoff) that blocks nobody else. ``person`` is a person or a
    retry-list key (``company:<id>``), ``record`` what the error names."""
    key = person if isinstance(person, str) else person.id
    first: Mapping[str, Any] = (result.get("errors") or [{}])[0]
    code = str(first.get("statusCode") or first.get("errorCode") or "UNKNOWN_EXCEPTION")
    report.errors.append(
        SalesforceRecordError(
            f"{target}: {first.get('message') or code}",
            error_code=code,
            record=record or f"person {key}",
            fields=list(first.get("fields") or []),
        )
    )
    entry = next_retry(work.retries.get(key), code, clock.now())
    if entry is None:
        work.retries.pop(key, None)
        report.given_up += 1
    else:
        work.retries[key] = entry


__all__ = [
    "AWAITING_INBOUND",
    "NO_RETRY",
    "OutboundReport",
    "PageWork",
    "record_failure",
    "tally",
]
