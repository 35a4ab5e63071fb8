"""Deleting and undeleting records with Salesforce's rules: the recycle bin, merges, cascades
and the change events they publish; and the commit every record operation ends with."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from peoplesync.sandbox.salesforce.change import Publisher, RecordChange
from peoplesync.sandbox.salesforce.ids import is_valid_id, to18
from peoplesync.sandbox.salesforce.record_results import SaveResult, rolled_back
from peoplesync.sandbox.salesforce.record_rules import RecordRules, error_entry
from peoplesync.sandbox.salesforce.soql_compiler import storage_datetime


class RecordRemovals(RecordRules):
    """Delete and undelete of the record service (its state is set up by ``RecordService``)."""

    clock: Callable[[], datetime]
    publish: Publisher | None
    lock: asyncio.Lock
    _transactions: int

    async def _commit(self, changes: list[RecordChange]) -> None:
        await self.storage.save_counter()
        await self.storage.conn.commit()
        if changes and self.publish is not None:
            self._transactions += 1
            key = f"{self.clock().strftime('%Y%m%d%H%M%S')}-{self._transactions:08d}"
            await self.publish(key, changes)

    async def _update_row(self, sobject: str, record_id: str, values: Mapping[str, Any]) -> None:
        sets = ", ".join(f'"{n}" = ?' for n in values)
        await self.storage.conn.execute(
            f'UPDATE "{sobject}" SET {sets} WHERE "Id" = ?', (*values.values(), record_id)
        )

    async def delete(
        self,
        user_id: str,
        ids: Sequence[str],
        *,
        all_or_none: bool = False,
        hard: bool = False,
        master_id: str | None = None,
    ) -> list[SaveResult]:
        """Move records to the recycle bin (or remove them with ``hard``); a merge names the
        ``master_id`` the deleted records were merged into."""
        async with self.lock:
            now = storage_datetime(self.clock())
            results: list[SaveResult] = []
            changes: list[RecordChange] = []
            for raw in ids:
                if not is_valid_id(raw):
                    results.append(
                        SaveResult(
                            None, False, errors=[error_entry("MALFORMED_ID", f"malformed id {raw}")]
                        )
                    )
                    continue
                record_id = to18(raw)
                sobject = self.schema.prefix_owner(record_id)
                row = (await self.fetch(sobject, [record_id])).get(record_id) if sobject else None
                if sobject is None or row is None:
                    results.append(
                        SaveResult(
                            record_id,
                            False,
                            errors=[
                                error_entry(
                                    "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"
                                )
                            ],
                        )
                    )
                    continue
                if row["IsDeleted"] and not hard:
                    results.append(
                        SaveResult(
                            record_id,
                            False,
                            errors=[error_entry("ENTITY_IS_DELETED", "entity is deleted")],
                        )
                    )
                    continue
                results.append(SaveResult(record_id, True))
                changes.append(RecordChange(sobject, "DELETE", (record_id,), (), {}, user_id))
            if all_or_none and (failed := rolled_back(results, keep_ids=True)) is not None:
                return failed
            for result in results:
                if not result.success or result.id is None:
                    continue
                sobject = self.schema.prefix_owner(result.id) or ""
                if hard:
                    await self.storage.conn.execute(
                        f'DELETE FROM "{sobject}" WHERE "Id" = ?', (result.id,)
                    )
                else:
                    await self._update_row(
                        sobject,
                        result.id,
                        {
                            "IsDeleted": 1,
                            "SystemModstamp": now,
                            "LastModifiedDate": now,
                            "LastModifiedById": user_id,
                        }
                        | ({"MasterRecordId": master_id} if master_id else {}),
                    )
                await self.storage.conn.execute(
                    "INSERT OR REPLACE INTO meta_deleted VALUES (?, ?, ?)",
                    (result.id, sobject, now),
                )
            await self._commit(changes)
            return results

    async def undelete(self, user_id: str, ids: Sequence[str]) -> list[SaveResult]:
        """Restore records from the recycle bin."""
        async with self.lock:
            now = storage_datetime(self.clock())
            results: list[SaveResult] = []
            changes: list[RecordChange] = []
            for raw in ids:
                record_id = to18(raw) if is_valid_id(raw) else raw
                sobject = self.schema.prefix_owner(record_id) if is_valid_id(raw) else None
                row = (await self.fetch(sobject, [record_id])).get(record_id) if sobject else None
                if sobject is None or row is None or not row["IsDeleted"]:
                    results.append(
                        SaveResult(
                            record_id,
                            False,
                            errors=[
                                error_entry("UNDELETE_FAILED", "Entity is not in the recycle bin")
                            ],
                        )
                    )
                    continue
                await self._update_row(
                    sobject,
                    record_id,
                    {
                        "IsDeleted": 0,
                        "MasterRecordId": None,
                        "SystemModstamp": now,
                        "LastModifiedDate": now,
                        "LastModifiedById": user_id,
                    }
                    if self.schema.field(sobject, "MasterRecordId")
                    else {
                        "IsDeleted": 0,
                        "SystemModstamp": now,
                        "LastModifiedDate": now,
                        "LastModifiedById": user_id,
                    },
                )
                await self.storage.conn.execute(
                    "DELETE FROM meta_deleted WHERE id = ?", (record_id,)
                )
                results.append(SaveResult(record_id, True))
                changes.append(RecordChange(sobject, "UNDELETE", (record_id,), (), {}, user_id))
            await self._commit(changes)
            return results
