"""Salesforce Accounts -> People companies.

Accounts travel the same way as Leads and Contacts (polling or Change Data Capture, cursor
committed with the data, unchanged records skipped) but land in companies: matched by the
linked Account id first, then by the normalised website domain. Persons find their company
through their Contact's AccountId, or else through the domain of their email address. An
Account read before a push of the Company -> Account step wrote some of its fields does not
roll those fields back (``sync.push_mark``), and an Account holding what such a push sent
without committing its link (``outbound.sent_updates``) takes those values as synced, not as
Salesforce changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from peoplesync.errors import ConfigurationError, RecordError
from peoplesync.people.attribute import AttributeType
from peoplesync.people.domain_name import normalise_domain
from peoplesync.people.model import CompanyInput, UpsertResult
from peoplesync.sync.inbound.cursor import Cursor
from peoplesync.sync.inbound.mapper import from_salesforce, read_path
from peoplesync.sync.inbound.plan import BatchPlan, contribution, passes_over, source
from peoplesync.sync.inbound.problems import Marks
from peoplesync.sync.inbound.report import InboundReport
from peoplesync.sync.inbound.runner import InboundRunner
from peoplesync.sync.inbound.skeleton import BatchApply
from peoplesync.sync.inbound.step import InboundStep
from peoplesync.sync.mapping import FieldMapping, Mode
from peoplesync.sync.outbound.push_mark import with_sent
from peoplesync.sync.outbound.sent_updates import load_sent

COMPANY_TYPES: dict[str, AttributeType] = {
    "name": AttributeType.TEXT,
    "website_domain": AttributeType.TEXT,
    "industry": AttributeType.TEXT,
    "employees": AttributeType.NUMBER,
    "revenue": AttributeType.DECIMAL,
    "country": AttributeType.TEXT,
    "owner": AttributeType.TEXT,
}

ACCOUNT_MAPPING: tuple[FieldMapping, ...] = tuple(
    FieldMapping(field, attribute)
    for field, attribute in (
        ("Name", "name"),
        ("Website", "website_domain"),
        ("Industry", "industry"),
        ("NumberOfEmployees", "employees"),
        ("AnnualRevenue", "revenue"),
        ("BillingCountry", "country"),
        ("Owner.Name", "owner"),
    )
)


def account_step(integration: str = "default", **switches: Any) -> InboundStep:
    """The default Account -> Company step."""
    return InboundStep("Account", ACCOUNT_MAPPING, integration=integration, **switches)


def company_values(
    record: Mapping[str, Any],
    lines: Sequence[FieldMapping],
    *,
    current: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """A company's values from one Account, honouring Fill/Overwrite and create/update sets."""
    creating = current is None
    name = f"Account {record.get('Id') or '(new record)'}"
    values: dict[str, Any] = {}
    for line in lines:
        if not line.applies(inbound=True, creating=creating):
            continue
        kind = COMPANY_TYPES.get(line.attribute)
        if kind is None:
            raise ConfigurationError(
                f"the Account mapping line {line.salesforce_field} targets {line.attribute!r}, "
                "which is not a company field",
                hint=f"map Account fields to one of: {', '.join(COMPANY_TYPES)}",
            )
        raw = read_path(record, line.salesforce_field)
        value = from_salesforce(raw, kind, record=name, field=line.salesforce_field)
        if line.attribute == "website_domain" and isinstance(value, str):
            value = normalise_domain(value)
        if (
            line.mode is Mode.FILL
            and current is not None
            and current.get(line.attribute) not in (None, "")
        ):
            continue
        values[line.attribute] = value
    return values


class CompanyRunner(InboundRunner):
    """Runs an Account -> Company step (polling, Bulk and streaming come from the base)."""

    async def _draft_ahead(self, records: list[dict[str, Any]]) -> None:
        # The person draft does not apply; an Account batch also writes the links that a
        # draft would read, so nothing is done ahead.
        return None

    async def _apply_locked(
        self,
        records: list[dict[str, Any]],
        cursor: Cursor | None,
        report: InboundReport,
        state: tuple[str, dict[str, Any]] | None,
        everything: list[dict[str, Any]],
        drafted: object = None,
    ) -> Cursor | None:
        step = self.step
        report.read += len(records)
        marks = Marks.of(report)
        ids = [r["Id"] for r in records]
        # What pushes sent without committing, read before the links (see ``match.sent_to``).
        sent = await load_sent(self.store, step.system, step.sobject, ids)
        links = await self.store.find_links(step.system, step.sobject, ids)
        companies = await self.store.get_companies(
            list({link.entity_id for link in links.values()})
        )
        fields = [line.salesforce_field for line in step.lines]
        plan = BatchPlan("company")
        for record in records:
            snapshot = {name: read_path(record, name) for name in fields}
            link = links.get(record["Id"])
            if link is not None and sent.get(record["Id"]):
                synced = with_sent(link.state, sent[record["Id"]], snapshot)
                link = dataclasses.replace(link, state=synced)
            if passes_over(step, link, snapshot, force=self.force):
                report.skipped += 1
                continue
            company = companies.get(link.entity_id) if link else None
            current = {name: getattr(company, name) for name in COMPANY_TYPES} if company else None
            applied = contribution(step.lines, record, snapshot, link, force=self.force)
            try:
                values = company_values(record, applied.lines, current=current)
            except RecordError as error:
                report.rejected.append(error)
                continue
            plan.add(
                CompanyInput(
                    values=values,
                    id=link.entity_id if link else None,
                    key=f"Account {record['Id']}",
                ),
                source(record, snapshot, link, applied.stale),
            )
        return await self._commit(plan, records, cursor, everything, state, report, marks)

    def _batch_writer(self) -> BatchApply:
        return self.store.apply_company_batch

    def _rejected(self, result: UpsertResult) -> list[RecordError]:
        return list(result.rejected)

    async def _follow_removals(self, records: list[dict[str, Any]], report: InboundReport) -> None:
        """A deleted or merged Account unlinks its company; the company and its persons stay
        (a merged Account's contacts move to the master and bring the new company with them)."""
        step = self.step
        links = await self.store.find_links(step.system, step.sobject, [r["Id"] for r in records])
        unlink = [(step.system, step.sobject, record_id) for record_id in links]
        report.unlinked += len(unlink)
        report.merged += sum(1 for r in records if r["Id"] in links and r.get("MasterRecordId"))
        report.skipped += len(records) - len(unlink)
        if not self.dry_run:
            await self.store.apply_removals(origin=step.system, unlink=unlink)
