"""Salesforce's data rules for one record: field access, types, required fields, references,
unique values and defaults (used by the record service before it writes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from peoplesync.sandbox.salesforce.schema import Schema
from peoplesync.sandbox.salesforce.storage import Storage
from peoplesync.sandbox.salesforce.values import FieldError, to_storage

SYSTEM = frozenset(
    {
        "Id",
        "IsDeleted",
        "CreatedDate",
        "CreatedById",
        "LastModifiedDate",
        "LastModifiedById",
        "SystemModstamp",
    }
)


def error_entry(code: str, message: str, fields: Sequence[str] = ()) -> dict[str, object]:
    """One ``errors[]`` entry as Salesforce writes it."""
    return {"statusCode": code, "message": message, "fields": list(fields)}


class RecordFailed(Exception):
    """A record breaks a rule; ``errors`` are the entries to report."""

    def __init__(self, errors: list[dict[str, object]]) -> None:
        super().__init__(str(errors[0]["message"]) if errors else "failed")
        self.errors = errors


class RecordRules:
    """Checks and completes records against the schema and the stored data."""

    storage: Storage
    schema: Schema

    async def fetch(
        self, sobject: str, ids: Sequence[str], *, include_deleted: bool = True
    ) -> dict[str, dict[str, Any]]:
        """Stored rows by id, as {column: stored value}."""
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        where = "" if include_deleted else ' AND "IsDeleted" = 0'
        async with self.storage.conn.execute(
            f'SELECT * FROM "{sobject}" WHERE "Id" IN ({marks}){where}', tuple(ids)
        ) as cursor:
            names = [d[0] for d in cursor.description]
            return {row[0]: dict(zip(names, row, strict=True)) async for row in cursor}

    def _convert(
        self, sobject: str, record: Mapping[str, Any], *, creating: bool, from_csv: bool
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        errors: list[dict[str, object]] = []
        for name, value in record.items():
            if name == "attributes" or (name == "Id" and not creating):
                continue
            meta = self.schema.field(sobject, name)
            if meta is None or not meta.stored:
                errors.append(
                    error_entry(
                        "INVALID_FIELD",
                        f"No such column '{name}' on sobject of type {sobject}",
                        [name],
                    )
                )
                continue
            allowed = meta.createable if creating else meta.updateable
            if not allowed:
                errors.append(
                    error_entry(
                        "INVALID_FIELD_FOR_INSERT_UPDATE",
                        f"Unable to create/update fields: {meta.name}. Please check the security settings of "
                        "this field and verify that it is read/write for your profile or permission set.",
                        [meta.name],
                    )
                )
                continue
            try:
                values[meta.name] = to_storage(meta, value, from_csv=from_csv)
            except FieldError as exc:
                errors.append(exc.as_error())
        if errors:
            raise RecordFailed(errors)
        return values

    async def _check_references(self, sobject: str, values: Mapping[str, Any]) -> None:
        errors = []
        for name, value in values.items():
            meta = self.schema.field(sobject, name)
            if meta is None or meta.type != "reference" or value is None:
                continue
            targets = [t for t in meta.reference_to if self.schema.canonical_sobject(t)]
            if not targets:
                continue
            found = False
            for target in targets:
                if value in await self.fetch(target, [value], include_deleted=False):
                    found = True
                    break
            if not found:
                errors.append(
                    error_entry(
                        "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [meta.name]
                    )
                )
        if errors:
            raise RecordFailed(errors)

    async def _check_unique(
        self,
        sobject: str,
        values: Mapping[str, Any],
        own_id: str | None,
        taken: dict[tuple[str, str], str],
    ) -> None:
        for name, value in values.items():
            meta = self.schema.field(sobject, name)
            if meta is None or value is None or not (meta.unique or meta.external_id):
                continue
            key = (meta.name, str(value).lower())
            other = taken.get(key)
            if other is None:
                async with self.storage.conn.execute(
                    f'SELECT "Id" FROM "{sobject}" WHERE "{meta.name}" = ? COLLATE NOCASE AND "IsDeleted" = 0 LIMIT 1',
                    (value,),
                ) as cursor:
                    row = await cursor.fetchone()
                other = row[0] if row else None
            if other is not None and other != own_id:
                raise RecordFailed(
                    [
                        error_entry(
                            "DUPLICATE_VALUE",
                            f"duplicate value found: {meta.name} duplicates value on record with id: {other}",
                            [meta.name],
                        )
                    ]
                )
            taken[key] = own_id or "pending"

    def _checked(self, sobject: str) -> frozenset[str]:
        """The fields whose values are checked against stored data (references, unique and
        external ids): a record setting none of them needs no look-ups."""
        return frozenset(
            f.name
            for f in self.schema.fields(sobject)
            if f.type == "reference" or f.unique or f.external_id
        )

    def _required(self, sobject: str) -> list[str]:
        """The fields a create must give (worked out once per batch by the callers)."""
        return [f.name for f in self.schema.fields(sobject) if f.required_on_create]

    @staticmethod
    def _required_missing(
        required: Sequence[str], row: Mapping[str, Any], names: Sequence[str] | None = None
    ) -> None:
        missing = [
            name
            for name in required
            if (names is None or name in names) and row.get(name) in (None, "")
        ]
        if missing:
            raise RecordFailed(
                [
                    error_entry(
                        "REQUIRED_FIELD_MISSING",
                        f"Required fields are missing: [{', '.join(missing)}]",
                        missing,
                    )
                ]
            )

    def _defaults(self, sobject: str, user_id: str) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for meta in self.schema.fields(sobject):
            if not meta.stored or not meta.defaulted_on_create or meta.name in SYSTEM:
                continue
            if meta.type == "boolean":
                row[meta.name] = 1 if meta.name == "IsActive" else 0
            elif meta.name == "OwnerId":
                row[meta.name] = user_id
            elif meta.default_picklist is not None:
                row[meta.name] = meta.default_picklist
            elif meta.picklist_values:
                row[meta.name] = meta.picklist_values[0]
            elif meta.type == "int":
                row[meta.name] = 0
        return row

    @staticmethod
    def _compose(sobject: str, row: dict[str, Any]) -> None:
        if sobject in ("Lead", "Contact", "User") and "LastName" in row:
            row["Name"] = " ".join(p for p in (row.get("FirstName"), row.get("LastName")) if p)
