"""What the record UI shows of each object, and the pure steps between forms and records:
reading a submitted form into field values, and placing save errors next to their fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from peoplesync.sandbox.salesforce.schema import FieldMeta, Schema
from peoplesync.sandbox.salesforce.soql_compiler import csv_value
from peoplesync.sandbox.salesforce.values import FieldError, to_storage

Section = tuple[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Layout:
    """One object in the UI: its list columns, searched fields, page sections and abilities."""

    sobject: str
    label: str
    plural: str
    columns: tuple[str, ...]
    search: tuple[str, ...]
    sections: tuple[Section, ...]
    editable: bool = True

    def field_names(self) -> list[str]:
        """Every field of the record page, in order."""
        return [name for _, names in self.sections for name in names]


LAYOUTS: dict[str, Layout] = {
    "Lead": Layout(
        "Lead",
        "Lead",
        "Leads",
        ("Name", "Company", "Email", "Phone", "City", "Status"),
        ("Name", "Company", "Email"),
        (
            (
                "Lead Information",
                (
                    "Salutation",
                    "FirstName",
                    "LastName",
                    "Company",
                    "Title",
                    "Email",
                    "Phone",
                    "MobilePhone",
                    "Website",
                    "Status",
                    "LeadSource",
                    "Industry",
                    "Rating",
                    "NumberOfEmployees",
                ),
            ),
            ("Address Information", ("Street", "City", "State", "PostalCode", "Country")),
            ("Additional Information", ("Description",)),
        ),
    ),
    "Contact": Layout(
        "Contact",
        "Contact",
        "Contacts",
        ("Name", "AccountId", "Email", "Phone", "MailingCity"),
        ("Name", "Email"),
        (
            (
                "Contact Information",
                (
                    "Salutation",
                    "FirstName",
                    "LastName",
                    "AccountId",
                    "Title",
                    "Department",
                    "Email",
                    "Phone",
                    "MobilePhone",
                    "Birthdate",
                    "LeadSource",
                ),
            ),
            (
                "Address Information",
                (
                    "MailingStreet",
                    "MailingCity",
                    "MailingState",
                    "MailingPostalCode",
                    "MailingCountry",
                ),
            ),
            ("Additional Information", ("Description",)),
        ),
    ),
    "Account": Layout(
        "Account",
        "Account",
        "Accounts",
        ("Name", "Industry", "Type", "BillingCity", "BillingCountry", "Phone"),
        ("Name",),
        (
            (
                "Account Information",
                (
                    "Name",
                    "Type",
                    "Industry",
                    "Phone",
                    "Website",
                    "NumberOfEmployees",
                    "BillingCity",
                    "BillingCountry",
                    "Description",
                ),
            ),
        ),
        editable=False,
    ),
}

CONVERTED_FIELDS = ("ConvertedDate", "ConvertedAccountId", "ConvertedContactId")


def labels(schema: Schema, sobject: str) -> dict[str, str]:
    """Field labels from the object's describe."""
    meta = schema.sobject(sobject)
    assert meta is not None
    return {str(f["name"]): str(f.get("label") or f["name"]) for f in meta.describe["fields"]}


def shown(meta: FieldMeta | None, stored: Any) -> str:
    """A stored value as the page shows it (and as an edit form is prefilled)."""
    if stored is None:
        return ""
    if meta is not None and meta.type == "datetime":
        text = str(stored)
        return f"{text[:10]} {text[11:16]} UTC"
    return csv_value(meta.type, stored) if meta is not None else str(stored)


def editable_fields(schema: Schema, layout: Layout, *, creating: bool) -> list[FieldMeta]:
    """The fields a new or edit form offers."""
    fields = []
    for name in layout.field_names():
        meta = schema.field(layout.sobject, name)
        if meta is not None and (meta.createable if creating else meta.updateable):
            fields.append(meta)
    return fields


def _submitted(meta: FieldMeta, form: Mapping[str, str]) -> str | None:
    if meta.type == "boolean":
        return "true" if form.get(meta.name) else "false"
    raw = form.get(meta.name, "")
    text = raw if meta.type == "textarea" else raw.strip()
    return text or None


def values_to_create(fields: Sequence[FieldMeta], form: Mapping[str, str]) -> dict[str, Any]:
    """A new record's values: the filled-in fields (empty ones are left to their defaults)."""
    values: dict[str, Any] = {}
    for meta in fields:
        value = _submitted(meta, form)
        if value is not None:
            values[meta.name] = value
    return values


def values_to_update(
    fields: Sequence[FieldMeta], form: Mapping[str, str], row: Mapping[str, Any]
) -> dict[str, Any]:
    """The fields whose submitted value differs from the stored one (cleared ones as None)."""
    values: dict[str, Any] = {}
    for meta in fields:
        value = _submitted(meta, form)
        try:
            same = to_storage(meta, value) == row.get(meta.name)
        except FieldError:
            same = False  # the save reports why the value is not acceptable
        if not same:
            values[meta.name] = value
    return values


def form_values(
    fields: Sequence[FieldMeta], form: Mapping[str, str] | None, row: Mapping[str, Any] | None
) -> dict[str, str]:
    """What each input holds: the submitted text, else the stored value, else the default."""
    values: dict[str, str] = {}
    for meta in fields:
        if form is not None:
            values[meta.name] = (
                ("true" if form.get(meta.name) else "")
                if meta.type == "boolean"
                else form.get(meta.name, "")
            )
        elif row is not None:
            values[meta.name] = shown(meta, row.get(meta.name))
        else:
            values[meta.name] = meta.default_picklist or ""
    return values


@dataclass(frozen=True, slots=True)
class FormErrors:
    """Save errors placed on the form: per field, and those that name no field on it."""

    by_field: dict[str, list[str]]
    general: list[str]

    def __bool__(self) -> bool:
        return bool(self.by_field or self.general)


def place_errors(errors: Sequence[Mapping[str, object]], on_form: Sequence[str]) -> FormErrors:
    """Each ``errors[]`` entry as ``CODE: message``, next to every form field it names."""
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    for error in errors:
        text = f"{error.get('statusCode')}: {error.get('message')}"
        named = error.get("fields")
        fields = [str(f) for f in named] if isinstance(named, list) else []
        placed = [f for f in fields if f in on_form]
        for name in placed:
            by_field.setdefault(name, []).append(text)
        if not placed:
            general.append(text)
    return FormErrors(by_field, general)
