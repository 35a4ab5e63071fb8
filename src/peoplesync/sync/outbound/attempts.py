"""Create attempts: no duplicate after a lost create answer, and no old value taken back
from a record the push made before its link was committed.

Before persons are created, the values sent are saved in the People store (state
``<system>:push:creates``, one transaction for the batch); an attempt is forgotten once its
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
  (``sent_states``), so only what changed in Salesforce after the create is applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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


def creates_key(system: str) -> str:
    """Where the create attempts of ``system`` (``salesforce:<integration>``) are kept."""
    return f"{system}:push:creates"


def sent_states(
    saved: Mapping[str, Any] | None, sobject: str, person_ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Of ``person_ids``, those with a saved create attempt of ``sobject``: the values sent
    (person id -> values)."""
    found: dict[str, dict[str, Any]] = {}
    for person_id in person_ids:
        attempt = (saved or {}).get(person_id)
        if isinstance(attempt, Mapping) and attempt.get("object") == sobject:
            found[person_id] = dict(attempt.get("values") or {})
    return found


class CreateAttempts:
    """The saved create attempts of one integration's push."""

    def __init__(self, ctx: PushContext) -> None:
        self.ctx = ctx

    @property
    def key(self) -> str:
        return creates_key(self.ctx.system)

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


__all__ = ["CreateAttempts", "creates_key", "same_sent", "sent_states"]
