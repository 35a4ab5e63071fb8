"""A transfer filter against the objects of the chosen steps: the fields a condition compares,
and the error naming each step, object and field the condition does not fit."""

from __future__ import annotations

from typing import Any

import pytest

from peoplesync.salesforce.soql import SoqlFormatError, condition_fields
from peoplesync.sync.transfer.filter import (
    FilterTarget,
    lead_status_error,
    misfit_error,
    unknown_fields,
)


def _describe(*fields: str, relations: tuple[str, ...] = ()) -> dict[str, Any]:
    named: list[dict[str, Any]] = [{"name": f} for f in fields]
    named += [{"name": f"{r}Id", "relationshipName": r} for r in relations]
    return {"fields": named}


DESCRIBES = {
    "Account": _describe(
        "Name", "BillingCountry", "ShippingCountry", "CleanStatus", relations=("Owner",)
    ),
    "Lead": _describe("LastName", "Country", "Email", "Status"),
    "Contact": _describe(
        "LastName", "MailingCountry", "Email", "CleanStatus", relations=("Account",)
    ),
}
ACCOUNT = FilterTarget("Account", "Account", "Company")
LEAD = FilterTarget("Lead", "Lead", "Person")
CONTACT = FilterTarget("Contact", "Contact", "Person")
EVERY = [ACCOUNT, LEAD, CONTACT]


@pytest.mark.parametrize(
    ("condition", "fields"),
    [
        ("Country = 'Germany'", ["Country"]),
        ("(Status IN ('Open', 'Working') AND NOT Email LIKE '%x')", ["Status", "Email"]),
        ("CALENDAR_YEAR(CreatedDate) = 2024 OR CreatedDate = LAST_N_DAYS:30", ["CreatedDate"]),
        ("Account.Name != null AND Id NOT IN ('001000000000001AAA')", ["Account.Name", "Id"]),
        ("IsConverted = false AND Name = 'AND'", ["IsConverted", "Name"]),
    ],
)
def test_condition_fields_are_the_names_compared(condition: str, fields: list[str]) -> None:
    assert condition_fields(condition) == fields


def test_condition_fields_refuse_what_cannot_be_a_condition() -> None:
    with pytest.raises(SoqlFormatError):
        condition_fields("Name = 'x' LIMIT 1")


def test_unknown_fields_know_relationships_and_ignore_case() -> None:
    contact = DESCRIBES["Contact"]
    assert unknown_fields(["email", "Account.Name", "Country", "Owner.Name"], contact) == [
        "Country",
        "Owner.Name",
    ]


def test_a_field_one_object_lacks_names_step_object_field_and_the_way_out() -> None:
    error = misfit_error("Country = 'Germany'", EVERY, EVERY, DESCRIBES)
    assert error is not None
    assert error.field == "filter" and error.record == "transfer"
    assert error.detail == (
        "Country is not a field of Account (step Account to Company); "
        "Country is not a field of Contact (step Contact to Person)"
    )
    assert error.hint.startswith("choose only the Lead step; or use BillingCountry or")
    assert "use MailingCountry instead of Country on Contact" in error.hint


def test_a_field_that_only_ends_alike_is_not_offered_instead() -> None:
    # Account's and Contact's CleanStatus (Data.com) is no stand-in for a Lead's Status
    error = misfit_error("Status = 'Working'", EVERY, EVERY, DESCRIBES)
    assert error is not None
    assert error.hint == "choose only the Lead step"


def test_the_condition_fits_when_only_fitting_steps_are_chosen() -> None:
    assert misfit_error("Country = 'Germany'", [LEAD], EVERY, DESCRIBES) is None
    assert misfit_error("Email != null", [LEAD, CONTACT], EVERY, DESCRIBES) is None
    named = FilterTarget("Web leads", "Lead", "Person")
    error = misfit_error("MailingCountry = 'DE'", [named], [named, CONTACT], DESCRIBES)
    assert error is not None
    assert error.detail == "MailingCountry is not a field of Lead (step Web leads: Lead to Person)"
    assert error.hint == "choose only the Contact step"


def test_no_step_fits_and_nothing_similar() -> None:
    error = misfit_error("Sauce__c = 1 AND Email != null", EVERY, EVERY, DESCRIBES)
    assert error is not None
    assert error.detail.startswith("Sauce__c and Email are not fields of Account")
    assert error.hint == "compare only fields every chosen step's object has"


def test_lead_statuses_need_a_lead_step() -> None:
    assert lead_status_error(["Open"], [ACCOUNT, LEAD]) is None
    assert lead_status_error([], [CONTACT]) is None
    error = lead_status_error(["Open"], [ACCOUNT, CONTACT])
    assert error is not None
    assert error.field == "lead_status"
    assert error.detail == (
        "Lead Status only applies to Leads, and no chosen step reads Leads (Account, Contact)"
    )
