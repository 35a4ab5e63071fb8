"""The part of applying a batch of inbound records that needs no earlier batch committed:
snapshots of the mapped fields, emails and, for batches of mostly new records, their mapping
and validation as new persons. It runs while the previous batch is written."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from peoplesync.errors import RecordError
from peoplesync.people.model import PersonInput
from peoplesync.people.planner import Prepared
from peoplesync.people.store import PeopleStore
from peoplesync.sync.inbound.mapper import InboundMapper
from peoplesync.sync.inbound.step import InboundStep

# Records drafted between two chances for a concurrent batch write to proceed.
_SLICE = 250


@dataclass(slots=True)
class Draft:
    """What one live record gives without looking at People's persons and links."""

    record: dict[str, Any]
    snapshot: dict[str, Any]
    email: str | None
    # As a new person, drafted ahead (see ``Drafted``): its validated input, or why it is
    # rejected; None when not drafted.
    create: Prepared | RecordError | None = None


@dataclass(slots=True)
class Drafted:
    """A batch's work that needs no earlier batch to be committed, so it can be done while
    the previous batch is written, without reading the store: the link snapshots, emails
    and, when the records are probably new, their mapping and validation as new persons.
    Whether a record is linked or duplicates an email, and its company, are only decided
    when the batch is applied.

    Records in the recycle bin are left out (they are followed when the batch is applied)."""

    mapper: InboundMapper
    drafts: list[Draft]  # the records not in the recycle bin


async def draft_batch(
    store: PeopleStore, step: InboundStep, records: list[dict[str, Any]], *, ahead: bool = False
) -> Drafted:
    """A batch's work that does not depend on earlier batches (see ``Drafted``);
    ``ahead`` maps and validates the unconverted records as new persons too."""
    mapper = InboundMapper(step.lines, await store.attributes())
    # Top-level fields are read with dict.get, relationship paths by their reader.
    readers = [
        (
            line.salesforce_field,
            "." not in line.salesforce_field,
            mapper.reader(line.salesforce_field),
        )
        for line in step.lines
    ]
    emails = [
        mapper.reader(line.salesforce_field) for line in step.lines if line.attribute == "emails"
    ]
    drafts: list[Draft] = []
    for record in records:
        if record.get("IsDeleted"):
            continue
        email = None
        for read in emails:
            value = read(record)
            if isinstance(value, str) and value.strip():
                email = value.strip().lower()
                break
        get = record.get
        snapshot = {name: get(name) if top else read(record) for name, top, read in readers}
        drafts.append(Draft(record, snapshot, email))
    if ahead and step.create:
        inputs: list[PersonInput] = []
        pending: list[Draft] = []
        for index, draft in enumerate(drafts):
            if index % _SLICE == _SLICE - 1:
                await asyncio.sleep(0)
            record = draft.record
            if step.sobject == "Lead" and record.get("IsConverted"):
                continue
            try:
                values = mapper.values(record, current=None, fields=draft.snapshot)
            except RecordError as error:
                draft.create = error
                continue
            inputs.append(
                PersonInput(
                    values=values.values,
                    emails=values.emails,
                    phones=values.phones,
                    key=f"{step.sobject} {record['Id']}",
                )
            )
            pending.append(draft)
        for draft, prepared in zip(pending, await store.validate_inputs(inputs), strict=True):
            draft.create = prepared
    return Drafted(mapper, drafts)


__all__ = ["Draft", "Drafted", "draft_batch"]
