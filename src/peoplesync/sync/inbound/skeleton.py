"""The skeleton every inbound runner shares: poll by SystemModstamp (REST, or Bulk API 2.0 for
large reads), follow change streams, and commit each decided batch with the step's cursor.

Each batch of records is one People transaction holding the entities, their links (with the
record's last synced values) and the step's cursor, so a crash resumes exactly where the last
batch ended. What a batch becomes is decided by the runner of the step's kind (persons in
``inbound``, companies in ``company_inbound``), from the pure decisions in ``inbound_plan``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from peoplesync.errors import RecordError
from peoplesync.people.model import ExternalLink, UpsertResult
from peoplesync.people.planner import Prepared
from peoplesync.people.store import BatchWrite
from peoplesync.sync.inbound.change_events import next_position
from peoplesync.sync.inbound.cursor import (
    Cursor,
)
from peoplesync.sync.inbound.plan import (
    BatchPlan,
)
from peoplesync.sync.inbound.problems import Marks, batch_problems
from peoplesync.sync.inbound.reads import InboundReads
from peoplesync.sync.inbound.report import InboundReport, collect_samples

# The store's write of one batch of entities with links, state and more writes.
BatchApply = Callable[..., Awaitable[UpsertResult]]


class InboundSkeleton(InboundReads):
    """Commits the batches a runner decides: entities, links, position and error entries."""

    async def _commit(
        self,
        plan: BatchPlan,
        records: list[dict[str, Any]],
        cursor: Cursor | None,
        everything: list[dict[str, Any]],
        state: tuple[str, dict[str, Any]] | None,
        report: InboundReport,
        marks: Marks,
    ) -> Cursor | None:
        """Write a decided batch with its links, the step's next position and its error
        entries in one transaction, and count what it did (both runners' last step)."""
        new_cursor, state, tally = next_position(
            cursor, everything, state, self._tally, self.step.cursor_key, keep_tally=self.tally
        )
        now = self.clock.now()
        result = await self._write(
            plan.inputs,
            lambda ids: plan.links(self.step, ids, now),
            state,
            self._problems(report, marks, records, self._rejected),
        )
        self._tally = tally
        report.created += len(result.created)
        report.updated += len(result.updated)
        report.unchanged += len(result.unchanged)
        report.rejected += self._rejected(result)
        if self.dry_run:
            given = [i.item if isinstance(i, Prepared) else i for i in plan.inputs]
            collect_samples(report, [(i.key, dict(i.values)) for i in given], result)
        return new_cursor

    def _problems(
        self,
        report: InboundReport,
        marks: Marks,
        records: list[dict[str, Any]],
        rejected: Callable[[UpsertResult], list[RecordError]],
    ) -> BatchWrite:
        """The batch's error entries, for its own transaction (see ``inbound_problems``)."""
        integration, now = self.step.integration, self.clock.now()
        return batch_problems(integration, self.label, report, marks, records, rejected, now)

    async def _write(
        self,
        inputs: list[Any],
        links: Callable[[list[str | None]], Sequence[ExternalLink]],
        state: tuple[str, dict[str, Any]] | None,
        also: BatchWrite,
    ) -> UpsertResult:
        """One decided batch with its links, position and error entries, in one transaction."""
        return await self._batch_writer()(
            inputs,
            origin=self.step.system,
            links=links,
            state=state,
            dry_run=self.dry_run,
            also=also,
        )

    def _batch_writer(self) -> BatchApply:
        """The store's write of this runner's entities (persons, companies)."""
        raise NotImplementedError

    def _rejected(self, result: UpsertResult) -> list[RecordError]:
        """The records the store rejected, in Salesforce's terms."""
        return list(result.rejected)


__all__ = ["BatchApply", "InboundSkeleton"]
