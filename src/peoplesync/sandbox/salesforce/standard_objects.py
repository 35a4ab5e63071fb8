"""Describe metadata for the standard objects that have no recorded describe in the package.

Lead, Contact, Account and Opportunity ship as describe responses recorded from a real org
(``describe/*.json``). Campaign, CampaignMember, Task and User are written here from their
documented standard fields, in the same describe shape.
"""

from __future__ import annotations

from typing import Any


def field(
    name: str,
    kind: str,
    length: int = 0,
    *,
    nillable: bool = True,
    createable: bool = True,
    updateable: bool = True,
    defaulted: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """One field in describe shape."""
    soap = {
        "id": "tns:ID",
        "reference": "tns:ID",
        "boolean": "xsd:boolean",
        "int": "xsd:int",
        "double": "xsd:double",
        "currency": "xsd:double",
        "percent": "xsd:double",
        "date": "xsd:date",
        "datetime": "xsd:dateTime",
    }.get(kind, "xsd:string")
    values = extra.pop("picklist", [])
    result: dict[str, Any] = {
        "name": name,
        "label": extra.pop("label", name),
        "type": kind,
        "soapType": soap,
        "length": length,
        "byteLength": length * 3,
        "nillable": nillable,
        "createable": createable,
        "updateable": updateable,
        "defaultedOnCreate": defaulted,
        "custom": False,
        "calculated": False,
        "filterable": kind not in ("textarea",),
        "sortable": kind not in ("textarea", "multipicklist"),
        "groupable": kind not in ("textarea", "double", "currency", "percent", "datetime"),
        "unique": False,
        "externalId": False,
        "idLookup": kind == "id",
        "nameField": name == "Name",
        "referenceTo": extra.pop("reference_to", []),
        "relationshipName": extra.pop("relationship", None),
        "restrictedPicklist": extra.pop("restricted", False),
        "picklistValues": [
            {
                "active": True,
                "defaultValue": i == 0 and defaulted,
                "label": v,
                "validFor": None,
                "value": v,
            }
            for i, v in enumerate(values)
        ],
        "defaultValue": None,
        "precision": 18 if kind in ("currency", "double") else 0,
        "scale": 2 if kind == "currency" else 0,
        "digits": 9 if kind == "int" else 0,
        "polymorphicForeignKey": False,
        "cascadeDelete": False,
        "compoundFieldName": extra.pop("compound", None),
    }
    result.update(extra)
    return result


def _system(owner: bool = True) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    fields = [
        field("Id", "id", 18, nillable=False, createable=False, updateable=False, defaulted=True),
        field(
            "IsDeleted",
            "boolean",
            nillable=False,
            createable=False,
            updateable=False,
            defaulted=True,
        ),
    ]
    tail = [
        field(
            "CreatedDate",
            "datetime",
            nillable=False,
            createable=False,
            updateable=False,
            defaulted=True,
        ),
        field(
            "CreatedById",
            "reference",
            18,
            nillable=False,
            createable=False,
            updateable=False,
            defaulted=True,
            reference_to=["User"],
            relationship="CreatedBy",
        ),
        field(
            "LastModifiedDate",
            "datetime",
            nillable=False,
            createable=False,
            updateable=False,
            defaulted=True,
        ),
        field(
            "LastModifiedById",
            "reference",
            18,
            nillable=False,
            createable=False,
            updateable=False,
            defaulted=True,
            reference_to=["User"],
            relationship="LastModifiedBy",
        ),
        field(
            "SystemModstamp",
            "datetime",
            nillable=False,
            createable=False,
            updateable=False,
            defaulted=True,
        ),
    ]
    if owner:
        tail.insert(
            0,
            field(
                "OwnerId",
                "reference",
                18,
                nillable=False,
                defaulted=True,
                reference_to=["Group", "User"],
                relationship="Owner",
            ),
        )
    return fields, tail


def _child(sobject: str, field_name: str, relationship: str) -> dict[str, Any]:
    """One childRelationships entry in describe shape."""
    return {
        "cascadeDelete": False,
        "childSObject": sobject,
        "deprecatedAndHidden": False,
        "field": field_name,
        "junctionIdListNames": [],
        "junctionReferenceTo": [],
        "relationshipName": relationship,
        "restrictedDelete": False,
    }


def _describe(
    name: str,
    prefix: str,
    label: str,
    body: list[dict[str, Any]],
    owner: bool = True,
    children: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    head, tail = _system(owner)
    return {
        "name": name,
        "label": label,
        "labelPlural": label + "s",
        "keyPrefix": prefix,
        "custom": False,
        "createable": True,
        "updateable": True,
        "deletable": True,
        "undeletable": True,
        "queryable": True,
        "retrieveable": True,
        "searchable": True,
        "triggerable": True,
        "mergeable": name in ("Lead", "Contact", "Account"),
        "replicateable": True,
        "layoutable": True,
        "feedEnabled": False,
        "childRelationships": children or [],
        "recordTypeInfos": [],
        "fields": [*head, *body, *tail],
        "urls": {},
    }


CAMPAIGN = _describe(
    "Campaign",
    "701",
    "Campaign",
    [
        field("Name", "string", 80, nillable=False),
        field("ParentId", "reference", 18, reference_to=["Campaign"], relationship="Parent"),
        field(
            "Type",
            "picklist",
            255,
            picklist=[
                "Conference",
                "Webinar",
                "Trade Show",
                "Public Relations",
                "Partners",
                "Referral Program",
                "Advertisement",
                "Banner Ads",
                "Direct Mail",
                "Email",
                "Telemarketing",
                "Other",
            ],
        ),
        field(
            "Status", "picklist", 255, picklist=["Planned", "In Progress", "Completed", "Aborted"]
        ),
        field("StartDate", "date"),
        field("EndDate", "date"),
        field("ExpectedRevenue", "currency"),
        field("BudgetedCost", "currency"),
        field("ActualCost", "currency"),
        field("ExpectedResponse", "percent"),
        field("NumberSent", "double"),
        field("IsActive", "boolean", nillable=False, defaulted=True),
        field("Description", "textarea", 32000),
        field(
            "NumberOfLeads",
            "int",
            createable=False,
            updateable=False,
            nillable=False,
            defaulted=True,
        ),
        field(
            "NumberOfContacts",
            "int",
            createable=False,
            updateable=False,
            nillable=False,
            defaulted=True,
        ),
    ],
    children=[
        _child("Campaign", "ParentId", "ChildCampaigns"),
        _child("CampaignMember", "CampaignId", "CampaignMembers"),
        _child("Opportunity", "CampaignId", "Opportunities"),
        _child("Task", "WhatId", "Tasks"),
    ],
)

CAMPAIGN_MEMBER = _describe(
    "CampaignMember",
    "00v",
    "Campaign Member",
    [
        field(
            "CampaignId",
            "reference",
            18,
            nillable=False,
            updateable=False,
            reference_to=["Campaign"],
            relationship="Campaign",
        ),
        field(
            "LeadId", "reference", 18, updateable=False, reference_to=["Lead"], relationship="Lead"
        ),
        field(
            "ContactId",
            "reference",
            18,
            updateable=False,
            reference_to=["Contact"],
            relationship="Contact",
        ),
        field("Status", "picklist", 40, defaulted=True, picklist=["Sent", "Responded"]),
        field(
            "HasResponded",
            "boolean",
            nillable=False,
            createable=False,
            updateable=False,
            defaulted=True,
        ),
        field("FirstRespondedDate", "date", createable=False, updateable=False),
        field("Email", "email", 80, createable=False, updateable=False),
        field("FirstName", "string", 40, createable=False, updateable=False),
        field("LastName", "string", 80, createable=False, updateable=False),
    ],
    owner=False,
)

TASK = _describe(
    "Task",
    "00T",
    "Task",
    [
        field("WhoId", "reference", 18, reference_to=["Contact", "Lead"], relationship="Who"),
        field(
            "WhatId",
            "reference",
            18,
            reference_to=["Account", "Opportunity", "Campaign"],
            relationship="What",
        ),
        field("Subject", "combobox", 255, picklist=["Call", "Send Letter", "Send Quote", "Other"]),
        field("ActivityDate", "date"),
        field(
            "Status",
            "picklist",
            255,
            nillable=False,
            defaulted=True,
            picklist=[
                "Not Started",
                "In Progress",
                "Completed",
                "Waiting on someone else",
                "Deferred",
            ],
        ),
        field(
            "Priority",
            "picklist",
            40,
            nillable=False,
            defaulted=True,
            picklist=["Normal", "High", "Low"],
        ),
        field(
            "IsClosed",
            "boolean",
            nillable=False,
            createable=False,
            updateable=False,
            defaulted=True,
        ),
        field("Description", "textarea", 32000),
        field("Type", "picklist", 40, picklist=["Call", "Email", "Meeting", "Other"]),
        field("TaskSubtype", "picklist", 40, updateable=False, picklist=["Task", "Email", "Call"]),
        field("CallDurationInSeconds", "int"),
        field("CallType", "picklist", 40, picklist=["Internal", "Inbound", "Outbound"]),
        field("CompletedDateTime", "datetime", createable=False, updateable=False),
    ],
)

USER = _describe(
    "User",
    "005",
    "User",
    [
        field("Username", "string", 80, nillable=False, unique=True),
        field("LastName", "string", 80, nillable=False),
        field("FirstName", "string", 40),
        field("Name", "string", 121, createable=False, updateable=False),
        field("Email", "email", 128, nillable=False),
        field("Alias", "string", 8, nillable=False),
        field("IsActive", "boolean", nillable=False, defaulted=True),
        field(
            "TimeZoneSidKey",
            "picklist",
            40,
            nillable=False,
            picklist=["America/Los_Angeles", "Europe/London", "UTC"],
        ),
        field("LocaleSidKey", "picklist", 40, nillable=False, picklist=["en_US", "en_GB"]),
        field("LanguageLocaleKey", "picklist", 40, nillable=False, picklist=["en_US"]),
        field("EmailEncodingKey", "picklist", 40, nillable=False, picklist=["UTF-8", "ISO-8859-1"]),
        field(
            "ProfileId",
            "reference",
            18,
            nillable=False,
            reference_to=["Profile"],
            relationship="Profile",
        ),
        field(
            "UserType", "picklist", 40, createable=False, updateable=False, picklist=["Standard"]
        ),
    ],
    owner=False,
)

EXTRA_DESCRIBES: dict[str, dict[str, Any]] = {
    d["name"]: d for d in (CAMPAIGN, CAMPAIGN_MEMBER, TASK, USER)
}
