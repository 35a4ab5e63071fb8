"""The record UI's pure steps: forms to field values, save errors to fields, layouts."""

from __future__ import annotations

from peoplesync.sandbox.salesforce.schema import Schema
from peoplesync.sandbox.salesforce.ui_access import local_target
from peoplesync.sandbox.salesforce.ui_fields import (
    LAYOUTS,
    editable_fields,
    form_values,
    place_errors,
    shown,
    values_to_create,
    values_to_update,
)

SCHEMA = Schema.standard()


def test_every_layout_field_exists_in_the_describes() -> None:
    for layout in LAYOUTS.values():
        for name in (*layout.columns, *layout.search, *layout.field_names()):
            assert SCHEMA.field(layout.sobject, name) is not None, (layout.sobject, name)


def test_new_records_leave_empty_fields_to_their_defaults() -> None:
    fields = editable_fields(SCHEMA, LAYOUTS["Lead"], creating=True)
    values = values_to_create(
        fields, {"LastName": " Lovelace ", "Company": "Engines", "City": "", "Status": ""}
    )
    assert values == {"LastName": "Lovelace", "Company": "Engines"}


def test_edits_send_only_changed_fields_and_clear_emptied_ones() -> None:
    fields = editable_fields(SCHEMA, LAYOUTS["Lead"], creating=False)
    row = {"LastName": "Hopper", "Company": "Navy", "City": "Arlington", "NumberOfEmployees": 12}
    form = {"LastName": "Hopper", "Company": "Navy", "City": "", "NumberOfEmployees": "12"}
    assert values_to_update(fields, form, row) == {"City": None}
    form["NumberOfEmployees"] = "lots"  # not a number: sent, so the save names the field
    assert values_to_update(fields, form, row) == {"City": None, "NumberOfEmployees": "lots"}


def test_form_values_prefer_what_was_typed_then_stored_then_defaults() -> None:
    fields = editable_fields(SCHEMA, LAYOUTS["Lead"], creating=True)
    assert form_values(fields, None, None)["Status"] == "Open - Not Contacted"
    assert form_values(fields, None, {"NumberOfEmployees": 7})["NumberOfEmployees"] == "7"
    assert form_values(fields, {"City": "Paris"}, {"City": "London"})["City"] == "Paris"


def test_errors_go_next_to_the_fields_they_name() -> None:
    errors = place_errors(
        [
            {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": "Required fields are missing: [LastName, Company]",
                "fields": ["LastName", "Company"],
            },
            {"statusCode": "DUPLICATE_VALUE", "message": "duplicate", "fields": ["Secret__c"]},
            {"statusCode": "CANNOT_UPDATE_CONVERTED_LEAD", "message": "converted", "fields": []},
        ],
        ["LastName", "Company", "Email"],
    )
    assert errors.by_field == {
        "LastName": ["REQUIRED_FIELD_MISSING: Required fields are missing: [LastName, Company]"],
        "Company": ["REQUIRED_FIELD_MISSING: Required fields are missing: [LastName, Company]"],
    }
    assert errors.general == [
        "DUPLICATE_VALUE: duplicate",
        "CANNOT_UPDATE_CONVERTED_LEAD: converted",
    ]


def test_shown_values() -> None:
    assert shown(SCHEMA.field("Lead", "CreatedDate"), "2026-11-24T12:30:05.000Z") == (
        "2026-11-24 12:30 UTC"
    )
    assert shown(SCHEMA.field("Lead", "IsConverted"), 1) == "true"
    assert shown(SCHEMA.field("Lead", "City"), None) == ""


def test_after_login_only_local_paths() -> None:
    assert local_target("/lightning/r/Lead/x/view") == "/lightning/r/Lead/x/view"
    for outside in ("https://evil.example/", "//evil.example", "/\\evil.example", "", None):
        assert local_target(outside) == "/lightning/o/Lead/list"
