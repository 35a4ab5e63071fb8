"""People -> Salesforce deletes: a person or a company deleted in People, per the step's
delete switch (off by default: the links are only forgotten).

A company's Account is deleted only when no Contact is left on it: Salesforce deletes an
Account's Contacts with it, and those are persons People still has (or records People never
held). Persons deleted in the same pass go first, so their Contacts (when the Contact step
deletes) no longer hold the Account; an Account still holding Contacts is kept and its link
forgotten."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from peoplesync.salesforce.failure import SalesforceRecordError
from peoplesync.salesforce.soql import select, soql
from peoplesync.sync.outbound.account_plan import COMPANY_KEY
from peoplesync.sync.outbound.report import OutboundReport, PageWork, tally
from peoplesync.sync.outbound.step import PushContext

LOOKUP_SIZE = 200  # ids per IsConverted query
# Answers to a delete that mean the record is gone already (a repeated page, a person
# deleted in Salesforce as well): nothing left to do.
GONE = frozenset({"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "NOT_FOUND"})


class OutboundDeleter:
    """Deletes (or forgets) the linked records of persons deleted in People."""

    def __init__(self, ctx: PushContext) -> None:
        self.ctx = ctx

    async def delete(
        self, gone: Mapping[str, list[tuple[str, str]]], report: OutboundReport, work: PageWork
    ) -> None:
        """Persons deleted in People: delete their linked records where the step's delete
        switch is on (never a converted Lead), else only forget the links (the store dropped
        them with the person)."""
        targets: dict[str, list[str]] = {}
        for person_id, pairs in gone.items():
            work.retries.pop(person_id, None)
            for sobject, record_id in pairs:
                step = self.ctx.steps.get(sobject)
                if step is None or not step.delete:
                    report.forgotten += 1
                else:
                    targets.setdefault(sobject, []).append(record_id)
        if targets.get("Lead"):
            targets["Lead"] = await self._unconverted(targets["Lead"], report)
        for sobject, ids in targets.items():
            await self._delete_records(sobject, ids, report)

    async def delete_accounts(
        self, gone: Mapping[str, list[tuple[str, str]]], report: OutboundReport, work: PageWork
    ) -> None:
        """Companies deleted in People: delete their Accounts where the Account step's delete
        switch is on and no Contact is left on the Account, else forget the links (the store
        dropped them with the company)."""
        step = self.ctx.steps.get("Account")
        ids: list[str] = []
        for company_id, pairs in gone.items():
            work.retries.pop(COMPANY_KEY + company_id, None)
            for sobject, record_id in pairs:
                if sobject != "Account" or step is None or not step.delete:
                    report.forgotten += 1
                else:
                    ids.append(record_id)
        if ids:
            held = await self._with_contacts(ids)
            report.forgotten += len(held)
            await self._delete_records("Account", [i for i in ids if i not in held], report)

    async def _with_contacts(self, ids: list[str]) -> set[str]:
        """The Accounts of ``ids`` that still have Contacts."""
        held: set[str] = set()
        for start in range(0, len(ids), LOOKUP_SIZE):
            where = soql("AccountId IN {}", ids[start : start + LOOKUP_SIZE])
            async for record in self.ctx.client.query(
                select("Contact", ["Id", "AccountId"], where=where)
            ):
                held.add(str(record["AccountId"]))
        return held

    async def _delete_records(self, sobject: str, ids: list[str], report: OutboundReport) -> None:
        with tally(self.ctx.steps[sobject], report):
            results = await self.ctx.client.delete_many(ids) if ids else []
            for record_id, result in zip(ids, results, strict=True):
                first: Mapping[str, Any] = (result.get("errors") or [{}])[0]
                code = str(first.get("statusCode") or first.get("errorCode") or "")
                if result.get("success"):
                    report.deleted += 1
                    continue
                if code in GONE:
                    continue
                report.errors.append(
                    SalesforceRecordError(
                        f"deleting {sobject} {record_id}: {first.get('message') or code}",
                        error_code=code or "UNKNOWN_EXCEPTION",
                        record=f"{sobject} {record_id}",
                        fields=list(first.get("fields") or []),
                    )
                )

    async def _unconverted(self, ids: list[str], report: OutboundReport) -> list[str]:
        """The Leads of ``ids`` that exist and are not converted: a converted Lead belongs
        to its Contact and Account now and is never deleted (its link is forgotten)."""
        keep: list[str] = []
        for start in range(0, len(ids), LOOKUP_SIZE):
            where = soql("Id IN {}", ids[start : start + LOOKUP_SIZE])
            async for record in self.ctx.client.query(
                select("Lead", ["Id", "IsConverted"], where=where)
            ):
                if record.get("IsConverted"):
                    report.forgotten += 1
                else:
                    keep.append(str(record["Id"]))
        return keep


__all__ = ["GONE", "OutboundDeleter"]
