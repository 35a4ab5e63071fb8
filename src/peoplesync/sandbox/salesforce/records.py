"""Record operations with Salesforce's rules: validation, system fields, recycle bin, events."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from peoplesync.sandbox.salesforce.change import Publisher, RecordChange
from peoplesync.sandbox.salesforce.ids import is_valid_id, to18
from peoplesync.sandbox.salesforce.record_removals import RecordRemovals
from peoplesync.sandbox.salesforce.record_results import RequestError, SaveResult, rolled_back
from peoplesync.sandbox.salesforce.record_rules import RecordFailed, error_entry
from peoplesync.sandbox.salesforce.schema import Schema
from peoplesync.sandbox.salesforce.soql_compiler import (
    JSON_CONVERTED,
    json_value,
    storage_datetime,
)
from peoplesync.sandbox.salesforce.soql_result import compound_json, part_key
from peoplesync.sandbox.salesforce.storage import Storage


def _runs(
    statements: Sequence[tuple[tuple[str, ...], tuple[Any, ...]]],
) -> list[tuple[tuple[str, ...], list[tuple[Any, ...]]]]:
    """Consecutive (columns, parameters) pairs with the same columns, as one run each: what
    one ``executemany`` can write without changing the order of the writes."""
    runs: list[tuple[tuple[str, ...], list[tuple[Any, ...]]]] = []
    for names, parameters in statements:
        if runs and runs[-1][0] == names:
            runs[-1][1].append(parameters)
        else:
            runs.append((names, [parameters]))
    return runs


class RecordService(RecordRemovals):
    """Creates, updates, upserts, deletes and undeletes records; publishes change events."""

    def __init__(
        self,
        storage: Storage,
        clock: Callable[[], datetime],
        *,
        publish: Publisher | None = None,
    ) -> None:
        self.storage = storage
        self.schema: Schema = storage.schema
        self.clock = clock
        self.publish = publish
        self.lock = asyncio.Lock()
        self._transactions = 0

    def sobject(self, name: str) -> str:
        """Canonical sObject name, or RequestError NOT_FOUND as the REST API answers."""
        canonical = self.schema.canonical_sobject(name)
        if canonical is None:
            raise RequestError(404, "NOT_FOUND", "The requested resource does not exist")
        return canonical

    # --- reading -----------------------------------------------------------------------

    def to_json(
        self,
        sobject: str,
        row: Mapping[str, Any],
        api_version: str,
        fields: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """A stored row as the REST API returns a record."""
        body: dict[str, Any] = {
            "attributes": {
                "type": sobject,
                "url": f"/services/data/v{api_version}/sobjects/{sobject}/{row['Id']}",
            }
        }
        metas = self.schema.fields(sobject)
        for meta in metas:
            if fields is not None and meta.name.lower() not in fields:
                continue
            if meta.stored:
                body[meta.name] = json_value(meta.type, row.get(meta.name))
            else:  # an address: its components as one object, as Salesforce returns it
                body[meta.name] = compound_json(
                    (part_key(part.name), part.type, row.get(part.name))
                    for part in metas
                    if part.compound_name == meta.name and part.stored
                )
        return body

    # --- writing -----------------------------------------------------------------------

    async def create(
        self,
        user_id: str,
        sobject: str,
        records: Sequence[Mapping[str, Any]],
        *,
        all_or_none: bool = False,
        from_csv: bool = False,
        staged: Callable[[list[SaveResult]], Awaitable[None]] | None = None,
    ) -> list[SaveResult]:
        """Insert records; each result says why a record failed. ``staged`` writes what the
        caller keeps of the results in the same transaction (a bulk job's progress)."""
        sobject = self.sobject(sobject)
        async with self.lock:
            results, rows, changes = await self._plan_creates(user_id, sobject, records, from_csv)
            if all_or_none and (failed := rolled_back(results, keep_ids=False)) is not None:
                return failed
            await self._insert_rows(sobject, rows)
            if staged is not None:
                await staged(results)
            await self._commit(changes)
            return results

    async def _plan_creates(
        self, user_id: str, sobject: str, records: Sequence[Mapping[str, Any]], from_csv: bool
    ) -> tuple[list[SaveResult], list[dict[str, Any]], list[RecordChange]]:
        meta = self.schema.sobject(sobject)
        assert meta is not None
        now = storage_datetime(self.clock())
        results: list[SaveResult] = []
        rows: list[dict[str, Any]] = []
        changes: list[RecordChange] = []
        taken: dict[tuple[str, str], str] = {}
        defaults = self._defaults(sobject, user_id)
        required, types = self._required(sobject), self._types(sobject)
        checked = self._checked(sobject)
        converted = {name for name, kind in types.items() if kind in JSON_CONVERTED}
        for record in records:
            try:
                values = self._convert(sobject, record, creating=True, from_csv=from_csv)
                row = defaults | {
                    k: v for k, v in values.items() if v is not None or k not in defaults
                }
                self._required_missing(required, row)
                if not checked.isdisjoint(values):
                    await self._check_references(sobject, values)
                    await self._check_unique(sobject, values, None, taken)
            except RecordFailed as failed:
                results.append(SaveResult(None, False, errors=failed.errors))
                continue
            record_id = self.storage.ids.next_id(meta.key_prefix)
            row.update(
                Id=record_id,
                IsDeleted=0,
                CreatedDate=now,
                LastModifiedDate=now,
                SystemModstamp=now,
                CreatedById=user_id,
                LastModifiedById=user_id,
            )
            self._compose(sobject, row)
            rows.append(row)
            results.append(SaveResult(record_id, True, created=True))
            shown = {
                k: json_value(types[k], v) if k in converted else v
                for k, v in row.items()
                if v is not None and k != "Id"
            }
            changes.append(
                RecordChange(sobject, "CREATE", (record_id,), tuple(shown), shown, user_id)
            )
        return results, rows, changes

    def _types(self, sobject: str) -> dict[str, str]:
        """Field types by name, as stored rows spell the names (once per batch)."""
        return {meta.name: meta.type for meta in self.schema.fields(sobject)}

    async def _insert_rows(self, sobject: str, rows: Sequence[dict[str, Any]]) -> None:
        """One statement per run of rows with the same columns (a batch's rows usually have)."""
        for names, run in _runs([(tuple(row), tuple(row.values())) for row in rows]):
            await self.storage.conn.executemany(
                f'INSERT INTO "{sobject}" ({", ".join(f"{chr(34)}{n}{chr(34)}" for n in names)}) '
                f"VALUES ({', '.join('?' for _ in names)})",
                run,
            )

    async def update(
        self,
        user_id: str,
        sobject: str,
        records: Sequence[Mapping[str, Any]],
        *,
        all_or_none: bool = False,
        from_csv: bool = False,
    ) -> list[SaveResult]:
        """Update records by Id."""
        sobject = self.sobject(sobject)
        async with self.lock:
            results, writes, changes = await self._plan_updates(user_id, sobject, records, from_csv)
            if all_or_none and (failed := rolled_back(results, keep_ids=True)) is not None:
                return failed
            await self._update_rows(sobject, writes)
            await self._commit(changes)
            return results

    async def _plan_updates(
        self, user_id: str, sobject: str, records: Sequence[Mapping[str, Any]], from_csv: bool
    ) -> tuple[list[SaveResult], list[tuple[str, dict[str, Any]]], list[RecordChange]]:
        now = storage_datetime(self.clock())
        raw_ids = [str(r.get("Id") or "") for r in records]
        ids = [to18(i) if is_valid_id(i) else None for i in raw_ids]
        current = await self.fetch(sobject, [i for i in ids if i is not None])
        required, types = self._required(sobject), self._types(sobject)
        checked = self._checked(sobject)
        converted = {name for name, kind in types.items() if kind in JSON_CONVERTED}
        results: list[SaveResult] = []
        writes: list[tuple[str, dict[str, Any]]] = []
        changes: list[RecordChange] = []
        taken: dict[tuple[str, str], str] = {}
        for raw_id, valid_id, record in zip(raw_ids, ids, records, strict=True):
            record_id = valid_id or raw_id
            try:
                if valid_id is None:
                    raise RecordFailed(
                        [
                            error_entry(
                                "MALFORMED_ID", f"Id: id value of incorrect type: {raw_id}", ["Id"]
                            )
                        ]
                    )
                row = current.get(record_id)
                if row is None:
                    raise (
                        RecordFailed(
                            [
                                error_entry(
                                    "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", []
                                )
                            ]
                        )
                        if self.schema.prefix_owner(record_id) != sobject
                        else RecordFailed(
                            [error_entry("NOT_FOUND", "The requested resource does not exist", [])]
                        )
                    )
                if row["IsDeleted"]:
                    raise RecordFailed([error_entry("ENTITY_IS_DELETED", "entity is deleted", [])])
                if sobject == "Lead" and row.get("IsConverted"):
                    raise RecordFailed(
                        [
                            error_entry(
                                "CANNOT_UPDATE_CONVERTED_LEAD",
                                "cannot reference converted lead",
                                [],
                            )
                        ]
                    )
                values = self._convert(sobject, record, creating=False, from_csv=from_csv)
                merged = {**row, **values}
                self._required_missing(required, merged, list(values))
                if not checked.isdisjoint(values):
                    await self._check_references(sobject, values)
                    await self._check_unique(sobject, values, record_id, taken)
            except RecordFailed as failed:
                results.append(SaveResult(valid_id, False, errors=failed.errors))
                continue
            changed = {k: v for k, v in values.items() if row.get(k) != v}
            composed = dict(merged)
            self._compose(sobject, composed)
            if (
                composed.get("Name") != row.get("Name")
                and "Name" in composed
                and sobject in ("Lead", "Contact", "User")
            ):
                changed["Name"] = composed["Name"]
            values = {**values, **({"Name": composed["Name"]} if "Name" in changed else {})}
            values.update(LastModifiedDate=now, SystemModstamp=now, LastModifiedById=user_id)
            writes.append((record_id, values))
            current[record_id] = {**row, **values}
            results.append(SaveResult(record_id, True))
            shown = {
                k: json_value(types[k], v) if k in converted else v for k, v in changed.items()
            }
            stamps = {"LastModifiedDate": json_value("datetime", now)}
            changes.append(
                RecordChange(
                    sobject, "UPDATE", (record_id,), (*shown, *stamps), {**shown, **stamps}, user_id
                )
            )
        return results, writes, changes

    async def _update_rows(
        self, sobject: str, writes: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> None:
        """One statement per run of updates setting the same columns, in the given order."""
        for names, run in _runs(
            [(tuple(values), (*values.values(), record_id)) for record_id, values in writes]
        ):
            sets = ", ".join(f'"{n}" = ?' for n in names)
            await self.storage.conn.executemany(
                f'UPDATE "{sobject}" SET {sets} WHERE "Id" = ?', run
            )

    async def upsert(
        self,
        user_id: str,
        sobject: str,
        external_field: str,
        records: Sequence[Mapping[str, Any]],
        *,
        all_or_none: bool = False,
        from_csv: bool = False,
    ) -> list[SaveResult]:
        """Create or update records matched on an external id field (or Id)."""
        sobject = self.sobject(sobject)
        meta = self.schema.field(sobject, external_field)
        if meta is None or not (meta.external_id or meta.name == "Id" or meta.unique):
            raise RequestError(
                400,
                "INVALID_FIELD",
                f"Field {external_field} is not an external id field on {sobject}",
            )
        results: list[SaveResult] = []
        for record in records:
            key = record.get(meta.name, record.get(external_field))
            if key in (None, ""):
                results.append(
                    SaveResult(
                        None,
                        False,
                        errors=[
                            error_entry(
                                "REQUIRED_FIELD_MISSING",
                                f"Required fields are missing: [{meta.name}]",
                                [meta.name],
                            )
                        ],
                    )
                )
                continue
            async with self.storage.conn.execute(
                f'SELECT "Id" FROM "{sobject}" WHERE "{meta.name}" = ? COLLATE NOCASE AND "IsDeleted" = 0',
                (str(key),),
            ) as cursor:
                matches = [row[0] async for row in cursor]
            if len(matches) > 1:
                results.append(
                    SaveResult(
                        None,
                        False,
                        errors=[
                            error_entry(
                                "DUPLICATE_EXTERNAL_ID",
                                f"The external ID value '{key}' matches {len(matches)} records: {', '.join(matches)}",
                                [meta.name],
                            )
                        ],
                    )
                )
                continue
            if matches:
                body = {k: v for k, v in record.items() if k != meta.name or meta.name != "Id"}
                (outcome,) = await self.update(
                    user_id, sobject, [{**body, "Id": matches[0]}], from_csv=from_csv
                )
                outcome.created = False
            else:
                body = {k: v for k, v in record.items() if k != "Id"}
                (outcome,) = await self.create(user_id, sobject, [body], from_csv=from_csv)
            results.append(outcome)
        return results
