"""Describe metadata for the standard objects that have no recorded describe in the package.

Lead, Contact, Account and Opportunity ship as describe responses recorded from a real org
(``describe/*.json``). Campaign, CampaignMember, Task and User are written here from their
documented standard fields, in the same describe shape.
"""

from __future__ import annotations

from typing import Any

from peoplesync.sandbox.salesforce.describe_shape import child, describe, field

CAMPAIGN = describe(
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
        child("Campaign", "ParentId", "ChildCampaigns"),
        child("CampaignMember", "CampaignId", "CampaignMembers"),
        child("Opportunity", "CampaignId", "Opportunities"),
        child("Task", "WhatId", "Tasks"),
    ],
)

CAMPAIGN_MEMBER = describe(
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

TASK = describe(
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

USER = describe(
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
