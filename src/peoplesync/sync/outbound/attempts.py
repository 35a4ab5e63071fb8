"""Create attempts of persons without a lookup key: no duplicate after a lost create answer.

A person with an email is found by the email lookup when a create's answer was lost (a
timeout, a crash), and one keyed by the external-id field is upserted. A person with neither
has nothing to look up, so before such persons are created the values sent are saved in the
People store (state ``<system>:push:creates``, one transaction for the batch). While an
attempt is saved, the person is first looked for among the records linked to nobody with the
same last name and the same value in every field sent (the newest first: the lost create is
the latest); a record found is linked instead of creating another. Creation times are not
compared: the org's clock is not ours. The attempt is forgotten once the create's outcome is known.
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
    """The saved create attempts of persons without an email (for a step without an
    external-id field)."""

    def __init__(self, ctx: PushContext) -> None:
        self.ctx = ctx

    @property
    def key(self) -> str:
        return f"{self.ctx.system}:push:creates"

    async def _load(self) -> dict[str, Any]:
        return dict(await self.ctx.store.get_state(self.key) or {})

    async def record(self, sobject: str, rows: Sequence[tuple[Person, dict[str, Any]]]) -> None:
        """Save the values about to be sent, before they are sent."""
        if not rows or self.ctx.dry_run:
            return
        saved = await self._load()
        at = self.ctx.clock.now().isoformat()
        for person, values in rows:
            saved[person.id] = {"object": sobject, "at": at, "values": values}
        await self.ctx.store.set_state(self.key, saved)

    async def forget(self, person_ids: Sequence[str]) -> None:
        """Drop the attempts whose outcome is known."""
        if not person_ids or self.ctx.dry_run:
            return
        saved = await self._load()
        if any(pid in saved for pid in person_ids):
            for pid in person_ids:
                saved.pop(pid, None)
            await self.ctx.store.set_state(self.key, saved)

    async def find(
        self, persons: list[Person], step: OutboundStep, report: OutboundReport
    ) -> list[tuple[Person, ExternalLink]]:
        """Links to the records earlier attempts of ``persons`` made (no email persons with a
        saved attempt only; one query per batch of last names, run as Composite calls)."""
        saved = await self._load()
        asked = {
            p.id: saved[p.id]
            for p in persons
            if not p.email and p.id in saved and saved[p.id].get("object") == step.sobject
        }
        if not asked:
            return []
        names = sorted({str(a["values"].get("LastName") or "") for a in asked.values()} - {""})
        if not names:
            return []
        sent = [name for attempt in asked.values() for name in attempt["values"]]
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
            attempt = asked.get(person.id)
            if attempt is None:
                continue
            values = dict(attempt["values"])
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
