"""Create attempts: no duplicate after a lost create answer, and no old value taken back
from a record the push made before its link was committed.

Before persons are created, the values sent are saved in the People store (one row a person,
``push_create_attempts``, one transaction for the batch); an attempt is forgotten once its
person's link is committed (or the create failed). While an attempt is saved:

- A person with an email is found by the email lookup when a create's answer was lost (a
  timeout, a crash), and one keyed by the external-id field is upserted. A person with
  neither has nothing to look up, so it is first looked for among the records linked to
  nobody with the same last name and the same value in every field sent (the newest first:
  the lost create is the latest); a record found is linked instead of creating another.
  Creation times are not compared: the org's clock is not ours.
- The inbound sync may read the new record before its link exists (the push's process died
  after Salesforce took the create, or has not committed yet). The record matches its
  person by email, but its values are the ones sent, which People may have changed since:
  the inbound sync takes the attempt's values as the record's last synced state
  (``inbound.match.pushed_creates``), so only what changed in Salesforce after the create
  is applied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from peoplesync.people.model import ExternalLink, Person
from peoplesync.salesforce.lookup import in_batches, query_many
from peoplesync.salesforce.soql import select, soql
from peoplesync.sync.outbound.report import OutboundReport
from peoplesync.sync.outbound.step import OutboundStep, PushContext


def same_sent(sent: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """Whether a record holds every value sent (strings compared trimmed and case-folded)."""

    def norm(value: Any) -> Any:
        return value.strip().casefold() if isinstance(value, str) else value

    return all(norm(record.get(name)) == norm(value) for name, value in sent.items())


class CreateAttempts:
    """The saved create attempts of one integration's push (one row a person in the People
    store, so a big create neither writes nor makes each inbound batch read one value
    holding them all)."""

    def __init__(self, ctx: PushContext) -> None:
        self.ctx = ctx

    async def record(self, sobject: str, rows: Sequence[tuple[Person, dict[str, Any]]]) -> None:
        """Save the values about to be sent, before they are sent."""
        if not rows or self.ctx.dry_run:
            return
        sent = {person.id: values for person, values in rows}
        await self.ctx.store.save_create_attempts(
            self.ctx.system, sobject, sent, self.ctx.clock.now()
        )

    async def forget(self, person_ids: Sequence[str]) -> None:
        """Drop the attempts whose outcome is known."""
        if not person_ids or self.ctx.dry_run:
            return
        # Most pages settle updates only: nothing to drop, and no delete to send.
        if await self.ctx.store.has_create_attempts(self.ctx.system):
            await self.ctx.store.forget_create_attempts(self.ctx.system, person_ids)

    async def find(
        self, persons: list[Person], step: OutboundStep, report: OutboundReport
    ) -> list[tuple[Person, ExternalLink]]:
        """Links to the records earlier attempts of ``persons`` made (no email persons with a
        saved attempt only; one query per batch of last names, run as Composite calls)."""
        nameless = [p.id for p in persons if not p.email]
        if not nameless or not await self.ctx.store.has_create_attempts(
            self.ctx.system, step.sobject
        ):
            return []
        asked = await self.ctx.store.create_attempts(self.ctx.system, step.sobject, nameless)
        if not asked:
            return []
        names = sorted({str(values.get("LastName") or "") for values in asked.values()} - {""})
        if not names:
            return []
        sent = [name for values in asked.values() for name in values]
        fields = list(dict.fromkeys(["Id", "LastName", *step.fields(), *sent]))
        where = "LastName IN {}"
        if step.sobject == "Lead":
            where += " AND IsConverted = false"
        queries = in_batches(
            names,
            lambda batch: select(
                step.sobject, fields, where=soql(where, batch), order_by="CreatedDate DESC, Id DESC"
            ),
        )
        records = await query_many(self.ctx.client, queries)
        # A record linked to a person already is someone else's, however alike.
        taken = set(
            await self.ctx.store.find_links(
                self.ctx.system, step.sobject, [str(r["Id"]) for r in records]
            )
        )
        found: list[tuple[Person, ExternalLink]] = []
        now = self.ctx.clock.now()
        for person in persons:
            values = asked.get(person.id)
            if values is None:
                continue
            record = next(
                (r for r in records if str(r["Id"]) not in taken and same_sent(values, r)), None
            )
            if record is None:
                continue
            taken.add(str(record["Id"]))
            state = {name: record.get(name) for name in step.fields()}
            link = ExternalLink(
                "person", person.id, self.ctx.system, step.sobject, str(record["Id"]), state, now
            )
            found.append((person, link))
            report.linked += 1
        return found


__all__ = ["CreateAttempts", "same_sent"]
