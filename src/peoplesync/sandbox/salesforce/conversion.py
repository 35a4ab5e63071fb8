"""Lead conversion and merge, offered as the SOAP calls ``convertLead`` and ``merge``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from peoplesync.sandbox.salesforce.api_context import ApiContext
from peoplesync.sandbox.salesforce.auth import Principal
from peoplesync.sandbox.salesforce.change import RecordChange
from peoplesync.sandbox.salesforce.ids import is_valid_id, to18
from peoplesync.sandbox.salesforce.soql_compiler import storage_datetime

PARTNER = "{urn:partner.soap.sforce.com}"
Handler = Callable[[Principal, Element], Awaitable[str]]


def _text(element: Element, name: str) -> str | None:
    value = element.findtext(f"{PARTNER}{name}")
    return value.strip() if value and value.strip() else None


async def convert_lead(
    ctx: ApiContext,
    user_id: str,
    lead_id: str,
    *,
    account_id: str | None = None,
    contact_id: str | None = None,
    converted_status: str | None = None,
    create_opportunity: bool = False,
    opportunity_name: str | None = None,
) -> dict[str, Any]:
    """Convert a lead: create (or use) an Account and a Contact, optionally an Opportunity."""
    records = ctx.records
    lead_id = to18(lead_id) if is_valid_id(lead_id) else lead_id
    lead = (await records.fetch("Lead", [lead_id])).get(lead_id)
    if lead is None or lead["IsDeleted"]:
        return {
            "success": False,
            "errors": [
                {
                    "statusCode": "INVALID_CROSS_REFERENCE_KEY",
                    "message": "invalid cross reference id",
                    "fields": [],
                }
            ],
            "leadId": lead_id,
        }
    if lead["IsConverted"]:
        return {
            "success": False,
            "errors": [
                {
                    "statusCode": "CANNOT_UPDATE_CONVERTED_LEAD",
                    "message": "cannot reference converted lead",
                    "fields": [],
                }
            ],
            "leadId": lead_id,
        }
    if account_id is None:
        (account,) = await records.create(
            user_id,
            "Account",
            [
                {
                    "Name": lead["Company"],
                    "Industry": lead.get("Industry"),
                    "BillingCity": lead.get("City"),
                    "BillingCountry": lead.get("Country"),
                }
            ],
        )
        if not account.success:
            return {"success": False, "errors": account.errors, "leadId": lead_id}
        account_id = account.id
    if contact_id is None:
        fields = {
            "FirstName": lead.get("FirstName"),
            "LastName": lead["LastName"],
            "Email": lead.get("Email"),
            "Phone": lead.get("Phone"),
            "MobilePhone": lead.get("MobilePhone"),
            "Title": lead.get("Title"),
            "LeadSource": lead.get("LeadSource"),
            "MailingCity": lead.get("City"),
            "MailingCountry": lead.get("Country"),
            "AccountId": account_id,
        }
        (contact,) = await records.create(
            user_id, "Contact", [{k: v for k, v in fields.items() if v is not None}]
        )
        if not contact.success:
            return {"success": False, "errors": contact.errors, "leadId": lead_id}
        contact_id = contact.id
    opportunity_id = None
    if create_opportunity:
        (opportunity,) = await records.create(
            user_id,
            "Opportunity",
            [
                {
                    "Name": opportunity_name or f"{lead['Company']}-",
                    "StageName": "Prospecting",
                    "CloseDate": storage_datetime(ctx.clock())[:10],
                    "AccountId": account_id,
                }
            ],
        )
        opportunity_id = opportunity.id
    status = converted_status or "Closed - Converted"
    now = storage_datetime(ctx.clock())
    async with records.lock:
        await records._update_row(
            "Lead",
            lead_id,
            {
                "IsConverted": 1,
                "ConvertedDate": now[:10],
                "ConvertedAccountId": account_id,
                "ConvertedContactId": contact_id,
                "ConvertedOpportunityId": opportunity_id,
                "Status": status,
                "SystemModstamp": now,
                "LastModifiedDate": now,
                "LastModifiedById": user_id,
            },
        )
        changed = {
            "IsConverted": True,
            "ConvertedDate": now[:10],
            "ConvertedAccountId": account_id,
            "ConvertedContactId": contact_id,
            "Status": status,
        }
        await records._commit(
            [RecordChange("Lead", "UPDATE", (lead_id,), tuple(changed), changed, user_id)]
        )
    return {
        "success": True,
        "errors": [],
        "leadId": lead_id,
        "accountId": account_id,
        "contactId": contact_id,
        "opportunityId": opportunity_id,
    }


async def merge(
    ctx: ApiContext, user_id: str, master_id: str, loser_ids: list[str]
) -> dict[str, Any]:
    """Merge records into the master: losers go to the recycle bin with MasterRecordId set."""
    records = ctx.records
    master_id = to18(master_id)
    sobject = records.schema.prefix_owner(master_id)
    if sobject not in ("Lead", "Contact", "Account") or master_id not in await records.fetch(
        sobject, [master_id], include_deleted=False
    ):
        return {
            "success": False,
            "errors": [
                {
                    "statusCode": "INVALID_CROSS_REFERENCE_KEY",
                    "message": "invalid cross reference id",
                    "fields": [],
                }
            ],
            "id": master_id,
        }
    losers = [to18(i) for i in loser_ids if is_valid_id(i)]
    results = await records.delete(user_id, losers, master_id=master_id)
    merged = [r.id for r in results if r.success]
    return {
        "success": len(merged) == len(losers),
        "errors": [e for r in results for e in r.errors],
        "id": master_id,
        "mergedRecordIds": merged,
    }


def soap_operations(ctx: ApiContext) -> dict[str, Handler]:
    """SOAP operations beyond login."""

    async def convert(principal: Principal, operation: Element) -> str:
        parts = []
        for item in operation.findall(f"{PARTNER}leadConverts"):
            lead_id = _text(item, "leadId") or ""
            result = await convert_lead(
                ctx,
                principal.user_id,
                lead_id,
                account_id=_text(item, "accountId"),
                contact_id=_text(item, "contactId"),
                converted_status=_text(item, "convertedStatus"),
                create_opportunity=(_text(item, "doNotCreateOpportunity") or "false").lower()
                != "true",
                opportunity_name=_text(item, "opportunityName"),
            )
            parts.append(_result_xml(result, ("accountId", "contactId", "leadId", "opportunityId")))
        return f"<convertLeadResponse>{''.join(parts)}</convertLeadResponse>"

    async def merge_call(principal: Principal, operation: Element) -> str:
        request = operation.find(f"{PARTNER}request")
        if request is None:
            request = operation
        master = request.find(f"{PARTNER}masterRecord")
        master_id = _text(master, "Id") if master is not None else None
        losers = [e.text.strip() for e in request.findall(f"{PARTNER}recordToMergeIds") if e.text]
        result = await merge(ctx, principal.user_id, master_id or "", losers)
        merged = "".join(
            f"<mergedRecordIds>{i}</mergedRecordIds>" for i in result.get("mergedRecordIds", [])
        )
        return f"<mergeResponse>{_result_xml(result, ('id',)).replace('</result>', merged + '</result>')}</mergeResponse>"

    async def undelete(principal: Principal, operation: Element) -> str:
        ids = [e.text.strip() for e in operation.findall(f"{PARTNER}ids") if e.text]
        results = await ctx.records.undelete(principal.user_id, ids)
        parts = "".join(
            _result_xml({"id": r.id, "success": r.success, "errors": r.errors}, ("id",))
            for r in results
        )
        return f"<undeleteResponse>{parts}</undeleteResponse>"

    return {"convertLead": convert, "merge": merge_call, "undelete": undelete}


def _result_xml(result: dict[str, Any], keys: tuple[str, ...]) -> str:
    fields = "".join(
        f"<{k}>{escape(str(result[k]))}</{k}>" if result.get(k) else f'<{k} xsi:nil="true"/>'
        for k in keys
    )
    errors = "".join(
        f"<errors><message>{escape(str(e['message']))}</message><statusCode>{e['statusCode']}</statusCode></errors>"
        for e in result.get("errors", [])
    )
    return f"<result>{fields}{errors}<success>{'true' if result['success'] else 'false'}</success></result>"
