"""Transfers on demand: a bulk transfer with its own filters, a dry-run preview, a resync.

A transfer reads every record of a step that matches the step's filter and the transfer's
own, from the beginning, through the same path as polling (REST, or Bulk API 2.0 for large
reads). It keeps its position under a key of its own, derived from the filter, so it never
moves the step's continuous cursor, and an interrupted transfer started again with the same
filter resumes where it stopped. A preview plans everything and writes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from peoplesync.sync.inbound.runner import InboundRunner
from peoplesync.sync.profile.step_filter import compose_filter


def transfer_condition(
    runner: InboundRunner,
    *,
    condition: str | None = None,
    modified_within_days: int | None = None,
    lead_statuses: tuple[str, ...] = (),
) -> str | None:
    """The step's own filter AND the transfer's (Lead Status only applies to Leads)."""
    extra = compose_filter(
        condition=condition,
        modified_within_days=modified_within_days,
        lead_statuses=lead_statuses if runner.step.sobject == "Lead" else (),
    )
    parts = [f"({part})" for part in (runner.step.condition, extra) if part]
    return " AND ".join(parts) or None


def transfer_runner(
    runner: InboundRunner,
    condition: str | None,
    *,
    preview: bool = False,
    force: bool = False,
) -> InboundRunner:
    """A runner reading the step's records that match ``condition`` from the beginning.

    ``force`` applies every mapped field even to records unchanged since their last sync (a
    resync); ``preview`` writes nothing. The runner keeps its count of records read with its
    position, so progress after a resume counts on from what was committed.
    """
    step = runner.step
    digest = hashlib.sha256(f"{condition or ''}|{force}".encode()).hexdigest()[:12]
    kind = "resync" if force else "transfer"
    derived = replace(
        step, condition=condition, name=f"{step.name or step.sobject}:{kind}:{digest}"
    )
    return type(runner)(
        runner.client,
        runner.store,
        derived,
        runner.clock,
        batch_size=runner.batch_size,
        overlap=runner.overlap,
        bulk_threshold=runner.bulk_threshold,
        bulk_batch_size=runner.bulk_batch_size,
        bulk_page_size=runner.bulk_page_size,
        count_after=runner.count_after,
        dry_run=preview,
        force=force,
        tally=not preview,
        label=runner.label,
    )


async def finish(runner: InboundRunner) -> None:
    """Forget a completed transfer's position, so the next one starts from the beginning."""
    if not runner.dry_run:
        await runner.store.set_state(runner.step.cursor_key, {})
