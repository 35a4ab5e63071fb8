"""People -> Salesforce matching: never create a record Salesforce already has.

An unlinked person is first checked against the inbound mirror, then looked up by email
(Contacts first, then unconverted Leads) and linked when found.
"""

from __future__ import annotations

from peoplesync.people.model import ExternalLink, Person
from peoplesync.salesforce.lookup import in_batches, query_many
from peoplesync.salesforce.soql import select, soql
from peoplesync.sync.outbound.report import OutboundReport, PageWork
from peoplesync.sync.outbound.step import OutboundStep, PushContext


class OutboundMatcher:
    """Finds the records unlinked persons already have in Salesforce."""

    def __init__(self, ctx: PushContext) -> None:
        self.ctx = ctx

    async def known_to_mirror(
        self, persons: list[Person], report: OutboundReport, work: PageWork
    ) -> list[Person]:
        """Persons to create less those whose email a record in the inbound mirror already
        has (a Lead or Contact linked to another person): creating would duplicate it, and
        no lookup is spent on them. What the mirror does not know is looked up by email."""
        emails = {e.casefold(): p for p in persons for e in p.emails}
        if not emails:
            return persons
        owners = await self.ctx.store.find_by_emails(list(emails))
        others = {
            owner: key for key, owner in owners.items() if key in emails and owner != emails[key].id
        }
        if not others:
            return persons
        links = await self.ctx.store.links_of("person", list(others))
        known: set[str] = set()
        for owner, owner_links in links.items():
            for link in owner_links:
                if link.system != self.ctx.system or link.object not in ("Lead", "Contact"):
                    continue
                email = str(link.state.get("Email") or "").casefold()
                person = emails.get(email)
                if person is None or person.id in known:
                    continue
                known.add(person.id)
                work.retries.pop(person.id, None)
                report.duplicates.append(
                    f"person {person.id} has the email {email} of {link.object} "
                    f"{link.external_id}, linked to person {owner}; it is not created again "
                    "(merge the two persons in People)"
                )
        return [p for p in persons if p.id not in known]

    async def match(
        self, persons: list[Person], creator: OutboundStep, report: OutboundReport, work: PageWork
    ) -> dict[str, list[tuple[Person, ExternalLink]]]:
        """Link unlinked persons to records that have their email (Contacts first, then
        unconverted Leads) instead of creating duplicates; also what finds the records a
        crashed or timed-out create made.

        The ``Email IN (...)`` lists are as long as the SOQL limit allows and run five to a
        Composite call (``salesforce.lookup``): 10,000 persons cost 2 calls for both objects.
        """
        by_email = {p.email.casefold(): p for p in persons if p.email}
        found: dict[str, list[tuple[Person, ExternalLink]]] = {}
        if not by_email:
            return found
        now = self.ctx.clock.now()
        queries: list[tuple[str, OutboundStep, str]] = []
        order = [s for s in ("Contact", "Lead") if s in self.ctx.steps or s == creator.sobject]
        for sobject in order:
            step = self.ctx.steps.get(sobject, creator)
            if sobject != creator.sobject and not step.update:
                continue
            fields = list(dict.fromkeys(["Id", "Email", *step.fields()]))

            def build(batch: list[str], sobject: str = sobject, fields: list[str] = fields) -> str:
                where = soql("Email IN {}", batch)
                if sobject == "Lead":
                    where += " AND IsConverted = false"
                return select(sobject, fields, where=where, order_by="CreatedDate, Id")

            queries += [(q, step, sobject) for q in in_batches(list(by_email), build)]
        records = await query_many(self.ctx.client, [q for q, _, _ in queries])
        steps = {sobject: step for _, step, sobject in queries}
        linked_emails: dict[str, set[str]] = {}
        for record in records:
            kind = str((record.get("attributes") or {}).get("type") or "")
            if kind not in steps:
                kind = "Contact" if str(record.get("Id", "")).startswith("003") else "Lead"
            step = steps[kind]
            email = str(record.get("Email") or "").casefold()
            person = by_email.pop(email, None)
            if person is None:
                if email in linked_emails.get(kind, set()):
                    report.duplicates.append(
                        f"{kind} {record['Id']} has the email {email} of a record "
                        "already linked; it is left alone (merge the duplicates)"
                    )
                continue
            state = {name: record.get(name) for name in step.fields()}
            link = ExternalLink(
                "person", person.id, self.ctx.system, kind, str(record["Id"]), state, now
            )
            work.links.append(link)
            report.linked += 1
            linked_emails.setdefault(kind, set()).add(email)
            found.setdefault(kind, []).append((person, link))
        return found


__all__ = ["OutboundMatcher"]
