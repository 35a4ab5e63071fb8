"""An inbound batch's error entries (rejected records, warnings, conflicts) as status problems,
written in the batch's own transaction: a crash loses none, and a batch that runs again after
one does not count its records twice."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from peoplesync.errors import RecordError
from peoplesync.people.model import UpsertResult
from peoplesync.people.store import BatchWrite
from peoplesync.sync.conflict import Conflict
from peoplesync.sync.inbound.cursor import parse_modstamp
from peoplesync.sync.inbound.report import InboundReport
from peoplesync.sync.status.state import Problem, error_problem, record_id, warning_problem
from peoplesync.sync.status.store import write_problems


def conflict_problem(conflict: Conflict) -> Problem:
    """A two-way conflict as a warning naming the field and both values."""
    return Problem(
        "warning",
        "FIELD_CONFLICT",
        record_id(conflict.record),
        conflict.salesforce_field,
        conflict.describe(),
        "nothing to do: the field's conflict rule chose the winner",
    )


@dataclass(frozen=True)
class Marks:
    """How far a report's lists went before a batch: what comes after is the batch's."""

    rejected: int = 0
    warnings: int = 0
    duplicates: int = 0
    conflicts: int = 0

    @classmethod
    def of(cls, report: InboundReport) -> Marks:
        """The report's positions now."""
        return cls(
            len(report.rejected),
            len(report.warnings),
            len(report.duplicates),
            len(report.conflicts),
        )


def report_problems(report: InboundReport, since: Marks = Marks()) -> list[Problem]:
    """The report's errors and warnings from the positions ``since`` on."""
    return [
        *(conflict_problem(c) for c in report.conflicts[since.conflicts :]),
        *(error_problem(e) for e in report.rejected[since.rejected :]),
        *(warning_problem("LEAD_CONVERTED", w) for w in report.warnings[since.warnings :]),
        *(
            warning_problem("DUPLICATE_EMAIL_IN_SALESFORCE", d)
            for d in report.duplicates[since.duplicates :]
        ),
    ]


def changed_times(records: Sequence[Mapping[str, Any]]) -> dict[str, datetime]:
    """When each record last changed in Salesforce, by id (records without a stamp left out)."""
    return {
        str(r["Id"]): parse_modstamp(str(r["SystemModstamp"]))
        for r in records
        if r.get("SystemModstamp")
    }


def batch_problems(
    integration: str,
    step: str,
    report: InboundReport,
    since: Marks,
    records: Sequence[Mapping[str, Any]],
    rejected: Callable[[UpsertResult], list[RecordError]],
    now: datetime,
) -> BatchWrite:
    """What a batch's transaction also writes: the problems the batch added to ``report``
    after ``since``, and the records the store rejects (``rejected(result)`` gives them in
    Salesforce's terms), each with when its record last changed."""
    changed = changed_times(records)

    async def write(conn: AsyncConnection, result: UpsertResult) -> None:
        found = report_problems(report, since) + [error_problem(e) for e in rejected(result)]
        if found:
            dated = [replace(p, changed_at=changed.get(p.record)) for p in found]
            await write_problems(conn, integration, step, dated, now)

    return write


__all__ = ["Marks", "batch_problems", "changed_times", "conflict_problem", "report_problems"]
