"""People companies -> Salesforce Accounts (the Company -> Account outbound step).

Companies created or changed in People by others than this integration (the inbound Account
step's own writes carry its origin and are left out) are written before the persons of the
same pass, so a Contact can take its AccountId from its company's link. A linked company
updates its Account with the fields that differ from the link's last synced state, the same
state the inbound Account step compares against: an Account written here comes back through
the inbound step as unchanged, and nothing goes back and forth.

An unlinked company is never created twice: its own link is the inbound mirror (the inbound
step links every Account it brought, and People holds one company per website domain); what
is not linked is looked up in Salesforce by website domain and by name (``Website IN`` and
``Name IN`` lists, several queries a Composite call) and linked when found, and only then
created (an upsert keyed on the company id when the org has ``PeopleSync_Id__c`` as an
external id on Account). The new links are committed with the page, after Salesforce accepted
the writes; a crash or a lost create answer repeats the page, whose lookup then finds the
Account made before (an Account always has a Name, so there is always a key to look up).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from peoplesync.errors import MissingMandatoryAttributeError
from peoplesync.people.model import Company, ExternalLink
from peoplesync.salesforce.failure import SalesforceUnavailableError
from peoplesync.salesforce.lookup import in_batches, query_many
from peoplesync.salesforce.soql import select, soql
from peoplesync.sync.outbound.account_plan import (
    COMPANY_KEY,
    account_create,
    account_update,
    match_accounts,
    website_variants,
)
from peoplesync.sync.outbound.push_mark import marked
from peoplesync.sync.outbound.report import OutboundReport, PageWork, record_failure
from peoplesync.sync.outbound.step import STORE_CHUNK, OutboundStep, PushContext
from peoplesync.sync.outbound.write import OutboundWriter


class AccountPusher:
    """Writes changed companies to Accounts and collects their links."""

    def __init__(self, ctx: PushContext, writer: OutboundWriter) -> None:
        self.ctx = ctx
        self.writer = writer

    async def push(
        self, step: OutboundStep, ids: list[str], report: OutboundReport, work: PageWork
    ) -> None:
        companies: dict[str, Company] = {}
        links: dict[str, list[ExternalLink]] = {}
        for start in range(0, len(ids), STORE_CHUNK):
            chunk = ids[start : start + STORE_CHUNK]
            companies |= await self.ctx.store.get_companies(chunk)
            links |= await self.ctx.store.links_of("company", chunk)
        for gone in set(ids) - set(companies):
            work.retries.pop(COMPANY_KEY + gone, None)
        pairs: list[tuple[Company, ExternalLink]] = []
        unlinked: list[Company] = []
        for company in companies.values():
            link = next(
                (
                    x
                    for x in reversed(links.get(company.id, []))
                    if x.system == self.ctx.system and x.object == "Account"
                ),
                None,
            )
            if link is not None:
                pairs.append((company, link))
            elif step.create:
                unlinked.append(company)
            else:
                report.skipped += 1
        if unlinked:
            found = await self._look_up(step, unlinked, report, work)
            pairs += found
            matched = {company.id for company, _ in found}
            unlinked = [c for c in unlinked if c.id not in matched]
        if step.update:
            await self._update(step, pairs, report, work)
        else:
            report.skipped += len(pairs)
        if unlinked:
            await self._create(step, unlinked, report, work)

    async def _look_up(
        self, step: OutboundStep, companies: list[Company], report: OutboundReport, work: PageWork
    ) -> list[tuple[Company, ExternalLink]]:
        """Accounts that already exist for unlinked companies (by domain, then by name)."""
        fields = list(dict.fromkeys(["Id", "Name", "Website", "CreatedDate", *step.fields()]))
        names = sorted({c.name.strip() for c in companies if c.name and c.name.strip()})
        sites = sorted(
            {v for c in companies if c.website_domain for v in website_variants(c.website_domain)}
        )

        def build(where: str) -> Any:
            return lambda batch: select(
                "Account", fields, where=soql(where, batch), order_by="CreatedDate, Id"
            )

        queries = in_batches(names, build("Name IN {}")) if names else []
        queries += in_batches(sites, build("Website IN {}")) if sites else []
        if not queries:
            return []
        records = list(
            {str(r["Id"]): r for r in await query_many(self.ctx.client, queries)}.values()
        )
        taken = await self.ctx.store.find_links(
            self.ctx.system, "Account", [str(r["Id"]) for r in records]
        )
        now = self.ctx.clock.now()
        found: list[tuple[Company, ExternalLink]] = []
        by_id = {c.id: c for c in companies}
        for company_id, record in match_accounts(companies, records, taken).items():
            state = {name: record.get(name) for name in step.fields()}
            link = ExternalLink(
                "company", company_id, self.ctx.system, "Account", str(record["Id"]), state, now
            )
            work.links.append(link)
            report.linked += 1
            found.append((by_id[company_id], link))
        return found

    async def _update(
        self,
        step: OutboundStep,
        pairs: list[tuple[Company, ExternalLink]],
        report: OutboundReport,
        work: PageWork,
    ) -> None:
        rows = []
        for company, link in pairs:
            diff = account_update(company, step.lines, link.state)
            if diff:
                rows.append((company, link, diff))
            else:
                report.unchanged += 1
                work.retries.pop(COMPANY_KEY + company.id, None)
        if not rows:
            return
        # Saved before sending, as the person steps' updates (see ``sent_updates``).
        ids = [link.external_id for _, link, _ in rows]
        unsure = await self.writer.updates.sent("Account", ids)
        await self.writer.updates.record(
            "Account", [(link.external_id, diff) for _, link, diff in rows]
        )
        sent = self.ctx.clock.now()  # marks the fields written (see ``push_mark``)
        results = await self.writer.write(
            "Account", "update", [{"Id": link.external_id, **diff} for _, link, diff in rows]
        )
        stored = await self.ctx.store.find_links(
            self.ctx.system, "Account", [link.external_id for _, link, _ in rows]
        )
        now = self.ctx.clock.now()
        unknown = 0
        for (company, link, diff), result in zip(rows, results, strict=True):
            if result is None:
                unknown += 1
                continue
            work.sent.setdefault(link.external_id, set()).update(diff)
            if result.get("success"):
                # Merged onto the link as stored now: the inbound step may have saved newer
                # values meanwhile. The written fields are marked, so an inbound read of the
                # Account from before this write does not roll them back.
                base = stored.get(link.external_id)
                before = base.state if base and base.state else link.state
                state = marked(before, diff, sent, unsure.get(link.external_id))
                work.links.append(dataclasses.replace(link, state=state, synced_at=now))
                report.updated += 1
                work.retries.pop(COMPANY_KEY + company.id, None)
            else:
                self._failed(company, f"Account {link.external_id}", result, report, work)
        if unknown:
            raise SalesforceUnavailableError(
                f"{unknown} Account updates have no known outcome; the page is pushed again",
                error_code="JOB_INCOMPLETE",
            )

    async def _create(
        self, step: OutboundStep, companies: list[Company], report: OutboundReport, work: PageWork
    ) -> None:
        rows: list[tuple[Company, dict[str, Any]]] = []
        for company in companies:
            values = account_create(company, step.lines)
            if not values.get("Name"):
                report.errors.append(
                    MissingMandatoryAttributeError(
                        "a new Account needs Name, and the company has no name",
                        record=f"company {company.id}",
                        field="name",
                        hint="set the company's name in People (Salesforce requires Account.Name)",
                    )
                )
                work.retries.pop(COMPANY_KEY + company.id, None)
                continue
            rows.append((company, values))
        if not rows:
            return
        external_id = await self.writer.external_id(step)
        if external_id:
            results = await self.writer.write(
                "Account",
                "upsert",
                [{**values, external_id: company.id} for company, values in rows],
                external_id,
            )
        else:
            results = await self.writer.write("Account", "insert", [v for _, v in rows])
        now = self.ctx.clock.now()
        unknown = 0
        for (company, values), result in zip(rows, results, strict=True):
            if result is None:
                unknown += 1
            elif result.get("success"):
                work.links.append(
                    ExternalLink(
                        "company",
                        company.id,
                        self.ctx.system,
                        "Account",
                        str(result["id"]),
                        values,
                        now,
                    )
                )
                report.created += 1 if result.get("created", True) else 0
                report.linked += 0 if result.get("created", True) else 1
                work.retries.pop(COMPANY_KEY + company.id, None)
            else:
                self._failed(company, "new Account", result, report, work)
        if unknown:
            raise SalesforceUnavailableError(
                f"{unknown} new Accounts have no known outcome; "
                "they are looked up before being created again",
                error_code="JOB_INCOMPLETE",
            )

    def _failed(
        self,
        company: Company,
        target: str,
        result: dict[str, Any],
        report: OutboundReport,
        work: PageWork,
    ) -> None:
        record_failure(
            self.ctx.clock,
            COMPANY_KEY + company.id,
            target,
            result,
            report,
            work,
            record=f"company {company.id}",
        )


__all__ = ["AccountPusher"]
