"""The describe shape of a standard object: its fields, system fields and child relationships,
as a real org's describe call returns them (``standard_objects`` writes its objects in it)."""

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


def child(sobject: str, field_name: str, relationship: str) -> dict[str, Any]:
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


def describe(
    name: str,
    prefix: str,
    label: str,
    body: list[dict[str, Any]],
    owner: bool = True,
    children: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One object's describe: the system fields around ``body``."""
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
