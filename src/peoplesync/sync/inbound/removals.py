"""Inbound records found in Salesforce's recycle bin: a merged record folds its person into
the master's, a deleted one unlinks its person, or deletes it with the step's delete switch
when it was the person's last link to the org."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from peoplesync.people.model import ExternalLink
from peoplesync.people.store import PeopleStore
from peoplesync.sync.inbound.report import InboundReport
from peoplesync.sync.inbound.step import InboundStep


async def follow_removals(
    store: PeopleStore,
    step: InboundStep,
    records: list[dict[str, Any]],
    report: InboundReport,
    *,
    now: datetime,
    dry_run: bool = False,
) -> None:
    """Records in the recycle bin: merged ones fold their person into the master's,
    deleted ones unlink (and, with the step's delete switch, delete) their person."""
    links = await store.find_links(step.system, step.sobject, [r["Id"] for r in records])
    masters = await store.find_links(
        step.system,
        step.sobject,
        [str(r["MasterRecordId"]) for r in records if r.get("MasterRecordId")],
    )
    others = await store.links_of("person", list({link.entity_id for link in links.values()}))
    unlink: list[tuple[str, str, str]] = []
    delete: list[str] = []
    merge: list[tuple[str, str]] = []
    relink: list[ExternalLink] = []
    for record in records:
        link = links.get(record["Id"])
        if link is None:
            report.skipped += 1
            continue
        unlink.append((step.system, step.sobject, record["Id"]))
        master_id = record.get("MasterRecordId")
        if master_id:
            report.merged += 1
            master = masters.get(str(master_id))
            if master is None:
                # The master was never linked: the person now stands for it; its values
                # arrive with the master's next change.
                relink.append(
                    ExternalLink(
                        "person",
                        link.entity_id,
                        step.system,
                        step.sobject,
                        str(master_id),
                        {},
                        now,
                    )
                )
            elif master.entity_id != link.entity_id:
                merge.append((link.entity_id, master.entity_id))
            continue
        remaining = [
            other
            for other in others.get(link.entity_id, [])
            if other.system == step.system and other.external_id != record["Id"]
        ]
        if step.delete and not remaining:
            delete.append(link.entity_id)
            report.deleted += 1
        else:
            report.unlinked += 1
    if not dry_run:
        await store.apply_removals(
            origin=step.system, unlink=unlink, delete=delete, merge=merge, link=relink
        )


__all__ = ["follow_removals"]
