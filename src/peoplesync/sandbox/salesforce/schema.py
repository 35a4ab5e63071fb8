"""The org's schema: describe metadata per sObject, case-insensitive lookups, custom fields."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from peoplesync.sandbox.salesforce.describe_shape import field as describe_field
from peoplesync.sandbox.salesforce.soql_compiler import ID_TYPES, TEXT_TYPES
from peoplesync.sandbox.salesforce.standard_objects import EXTRA_DESCRIBES

RECORDED = ("Lead", "Contact", "Account", "Opportunity")
NOT_STORED = frozenset({"address", "location"})
STRING_TYPES = TEXT_TYPES | ID_TYPES
CUSTOM_TYPES = frozenset(
    {
        "string",
        "textarea",
        "email",
        "phone",
        "url",
        "picklist",
        "multipicklist",
        "boolean",
        "int",
        "double",
        "currency",
        "percent",
        "date",
        "datetime",
    }
)


@dataclass(frozen=True, slots=True)
class FieldMeta:
    """One field of an sObject, from its describe."""

    name: str
    type: str
    length: int
    nillable: bool
    createable: bool
    updateable: bool
    defaulted_on_create: bool
    relationship_name: str | None
    reference_to: tuple[str, ...]
    filterable: bool
    sortable: bool
    unique: bool
    external_id: bool
    restricted_picklist: bool
    picklist_values: tuple[str, ...]
    default_picklist: str | None
    custom: bool
    groupable: bool = True
    compound_name: str | None = None

    @property
    def stored(self) -> bool:
        """Compound fields (Address...) have no column; their components do."""
        return self.type not in NOT_STORED

    @property
    def required_on_create(self) -> bool:
        """Salesforce's rule for REQUIRED_FIELD_MISSING on insert."""
        return (
            not self.nillable
            and self.createable
            and not self.defaulted_on_create
            and self.type != "boolean"
        )

    @classmethod
    def from_describe(cls, raw: dict[str, Any]) -> FieldMeta:
        """Read a describe field entry."""
        values = tuple(v["value"] for v in raw.get("picklistValues") or [] if v.get("active", True))
        default = next(
            (v["value"] for v in raw.get("picklistValues") or [] if v.get("defaultValue")), None
        )
        return cls(
            name=raw["name"],
            type=raw["type"],
            length=int(raw.get("length") or 0),
            nillable=bool(raw.get("nillable")),
            createable=bool(raw.get("createable")),
            updateable=bool(raw.get("updateable")),
            defaulted_on_create=bool(raw.get("defaultedOnCreate")),
            relationship_name=raw.get("relationshipName"),
            reference_to=tuple(raw.get("referenceTo") or ()),
            filterable=bool(raw.get("filterable", True)),
            sortable=bool(raw.get("sortable", True)),
            unique=bool(raw.get("unique")),
            external_id=bool(raw.get("externalId")),
            restricted_picklist=bool(raw.get("restrictedPicklist")),
            picklist_values=values,
            default_picklist=default,
            custom=bool(raw.get("custom")),
            groupable=bool(raw.get("groupable", True)),
            compound_name=raw.get("compoundFieldName"),
        )


@dataclass(slots=True)
class SObjectMeta:
    """An sObject: its describe and fields by lower-case name."""

    name: str
    key_prefix: str
    describe: dict[str, Any]
    fields: dict[str, FieldMeta] = field(default_factory=dict)
    relationships: dict[str, FieldMeta] = field(default_factory=dict)

    def add(self, meta: FieldMeta) -> None:
        """Index a field by name and by relationship name."""
        self.fields[meta.name.lower()] = meta
        if meta.relationship_name:
            self.relationships[meta.relationship_name.lower()] = meta

    def stored_fields(self) -> list[FieldMeta]:
        """Fields that have a column, in describe order."""
        return [f for f in self.fields.values() if f.stored]


class Schema:
    """Every sObject of the org; satisfies the SOQL compiler's SchemaLookup protocol."""

    def __init__(self, describes: Sequence[dict[str, Any]]) -> None:
        self.objects: dict[str, SObjectMeta] = {}
        for describe in describes:
            meta = SObjectMeta(describe["name"], describe["keyPrefix"], describe)
            for raw in describe["fields"]:
                if raw.get("custom"):
                    continue  # custom fields of the recording org are not standard
                meta.add(FieldMeta.from_describe(raw))
            meta.describe["fields"] = [f for f in describe["fields"] if not f.get("custom")]
            self.objects[meta.name.lower()] = meta

    @classmethod
    def standard(cls) -> Schema:
        """The recorded standard objects plus Campaign, CampaignMember, Task and User."""
        package = resources.files("peoplesync.sandbox.salesforce") / "describe"
        describes = [json.loads((package / f"{name}.json").read_text()) for name in RECORDED]
        describes += [copy.deepcopy(d) for d in EXTRA_DESCRIBES.values()]
        return cls(describes)

    # --- SchemaLookup -------------------------------------------------------------------

    def canonical_sobject(self, name: str) -> str | None:
        """The sObject's API name in canonical casing, or None."""
        meta = self.objects.get(name.lower())
        return meta.name if meta else None

    def field(self, sobject: str, name: str) -> FieldMeta | None:
        """A field by case-insensitive name."""
        meta = self.objects.get(sobject.lower())
        return meta.fields.get(name.lower()) if meta else None

    def relationship(self, sobject: str, relationship_name: str) -> FieldMeta | None:
        """The reference field behind a relationship name (Contact, "account" -> AccountId)."""
        meta = self.objects.get(sobject.lower())
        return meta.relationships.get(relationship_name.lower()) if meta else None

    def fields(self, sobject: str) -> Sequence[FieldMeta]:
        """All fields of an sObject in describe order."""
        return list(self.objects[sobject.lower()].fields.values())

    def child_relationship(self, sobject: str, name: str) -> tuple[str, str, str] | None:
        """The relationship's canonical name, child sObject and reference field behind a
        child relationship (Account, "contacts" -> ("Contacts", "Contact", "AccountId")),
        from the describe."""
        meta = self.objects.get(sobject.lower())
        for entry in meta.describe.get("childRelationships") or [] if meta else []:
            child = self.objects.get(str(entry.get("childSObject") or "").lower())
            relationship = entry.get("relationshipName")
            reference = str(entry.get("field") or "").lower()
            if (
                child
                and relationship
                and relationship.lower() == name.lower()
                and reference in child.fields
            ):
                return relationship, child.name, child.fields[reference].name
        return None

    # --- describes and custom fields ----------------------------------------------------

    def sobject(self, name: str) -> SObjectMeta | None:
        """An sObject's metadata by case-insensitive name."""
        return self.objects.get(name.lower())

    def prefix_owner(self, record_id: str) -> str | None:
        """The sObject whose key prefix starts ``record_id``."""
        for meta in self.objects.values():
            if record_id.startswith(meta.key_prefix):
                return meta.name
        return None

    def add_custom_field(
        self,
        sobject: str,
        name: str,
        kind: str,
        *,
        length: int = 255,
        external_id: bool = False,
        unique: bool = False,
        picklist: Sequence[str] = (),
        label: str | None = None,
    ) -> FieldMeta:
        """Add a ``__c`` field; raises ValueError when the request is not valid."""
        meta = self.sobject(sobject)
        if meta is None:
            raise ValueError(f"unknown sObject {sobject!r}")
        if not name.endswith("__c") or not name[:-3].replace("_", "a").isalnum():
            raise ValueError(f"custom field names end in __c and use letters, digits, _: {name!r}")
        if kind not in CUSTOM_TYPES:
            raise ValueError(f"unsupported custom field type {kind!r}")
        if name.lower() in meta.fields:
            raise ValueError(f"{meta.name}.{name} already exists")
        size = length if kind in STRING_TYPES else 0
        raw = describe_field(
            name,
            kind,
            size,
            label=label or name[:-3].replace("_", " "),
            picklist=list(picklist),
            defaulted=kind == "boolean",
            nillable=kind != "boolean",
        )
        raw.update(
            custom=True, externalId=external_id, unique=unique, idLookup=external_id or unique
        )
        meta.describe["fields"].append(raw)
        field_meta = FieldMeta.from_describe(raw)
        meta.add(field_meta)
        return field_meta

    def describe_json(self, sobject: str, version: str, instance_url: str) -> dict[str, Any]:
        """The describe response for ``sobject`` at API ``version`` (e.g. ``59.0``)."""
        meta = self.objects[sobject.lower()]
        body = copy.deepcopy(meta.describe)
        base = f"/services/data/v{version}/sobjects/{meta.name}"
        body["urls"] = {
            "sobject": base,
            "describe": f"{base}/describe",
            "rowTemplate": f"{base}/{{ID}}",
            "uiDetailTemplate": f"{instance_url}/{{ID}}",
            "uiEditTemplate": f"{instance_url}/{{ID}}/e",
            "uiNewRecord": f"{instance_url}/{meta.key_prefix}/e",
        }
        return body

    def global_json(self, version: str) -> dict[str, Any]:
        """The global describe response."""
        entries = []
        for meta in self.objects.values():
            d = meta.describe
            base = f"/services/data/v{version}/sobjects/{meta.name}"
            entries.append(
                {
                    key: d.get(key)
                    for key in (
                        "name",
                        "label",
                        "labelPlural",
                        "keyPrefix",
                        "custom",
                        "createable",
                        "updateable",
                        "deletable",
                        "undeletable",
                        "queryable",
                        "retrieveable",
                        "searchable",
                        "triggerable",
                        "mergeable",
                        "replicateable",
                        "layoutable",
                        "feedEnabled",
                    )
                }
                | {
                    "urls": {
                        "sobject": base,
                        "describe": f"{base}/describe",
                        "rowTemplate": f"{base}/{{ID}}",
                    }
                }
            )
        return {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": entries}
