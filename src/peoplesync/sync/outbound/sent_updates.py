"""Update attempts: the values a push sends to linked records, saved before they are sent, so
a push that dies after Salesforce took them does not leave them looking like Salesforce edits.

The create attempts' twin (``attempts``): before an update batch is sent, the values of each
record are saved in the People store (state ``<system>:push:updates``: record id -> object,
time and values, merged over what an earlier attempt left). Once the page's links (and their
push marks, ``push_mark``) are committed, the fields whose outcome is known are forgotten. A
field still saved is one an update sent without committing: the inbound sync and the next
push take a record holding that value as synced (``push_mark.with_sent``), where it would
otherwise be a Salesforce change newer than People's edit of the field made meanwhile.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from peoplesync.people.store import PeopleStore
from peoplesync.sync.outbound.step import PushContext


def updates_key(system: str) -> str:
    """Where the update attempts of ``system`` (``salesforce:<integration>``) are kept."""
    return f"{system}:push:updates"


def sent_values(
    saved: Mapping[str, Any] | None, sobject: str, record_ids: Collection[str]
) -> dict[str, dict[str, Any]]:
    """Of ``record_ids``, those with values an update of ``sobject`` sent without
    committing: record id -> field -> value."""
    found: dict[str, dict[str, Any]] = {}
    for record_id in record_ids:
        attempt = (saved or {}).get(record_id)
        if isinstance(attempt, Mapping) and attempt.get("object") == sobject:
            values = attempt.get("values")
            if isinstance(values, Mapping) and values:
                found[record_id] = dict(values)
    return found


async def load_sent(
    store: PeopleStore, system: str, sobject: str, record_ids: Collection[str]
) -> dict[str, dict[str, Any]]:
    """The values sent to ``record_ids`` by updates not committed (see ``sent_values``)."""
    if not record_ids:
        return {}
    return sent_values(await store.get_state(updates_key(system)), sobject, record_ids)


class SentUpdates:
    """The saved update attempts of one integration's push."""

    def __init__(self, ctx: PushContext) -> None:
        self.ctx = ctx

    @property
    def key(self) -> str:
        return updates_key(self.ctx.system)

    async def _load(self) -> dict[str, Any]:
        return dict(await self.ctx.store.get_state(self.key) or {})

    async def sent(self, sobject: str, record_ids: Collection[str]) -> dict[str, dict[str, Any]]:
        """The values sent to ``record_ids`` without committing (see ``sent_values``)."""
        return await load_sent(self.ctx.store, self.ctx.system, sobject, record_ids)

    async def record(self, sobject: str, rows: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        """Save the values about to be sent (record id, values), before they are sent."""
        if not rows or self.ctx.dry_run:
            return
        saved = await self._load()
        at = self.ctx.clock.now().isoformat()
        for record_id, values in rows:
            before = saved.get(record_id)
            kept = (
                dict(before.get("values") or {})
                if isinstance(before, Mapping) and before.get("object") == sobject
                else {}
            )
            saved[record_id] = {"object": sobject, "at": at, "values": {**kept, **values}}
        await self.ctx.store.set_state(self.key, saved)

    async def forget(self, done: Mapping[str, Collection[str]]) -> None:
        """Drop the fields whose outcome is known (record id -> fields): committed with the
        link, or refused by Salesforce."""
        if not done or self.ctx.dry_run:
            return
        saved = await self._load()
        changed = False
        for record_id, fields in done.items():
            attempt = saved.get(record_id)
            if not isinstance(attempt, Mapping):
                continue
            values = {k: v for k, v in dict(attempt.get("values") or {}).items() if k not in fields}
            changed = True
            if values:
                saved[record_id] = {**attempt, "values": values}
            else:
                del saved[record_id]
        if changed:
            await self.ctx.store.set_state(self.key, saved)


__all__ = ["SentUpdates", "load_sent", "sent_values", "updates_key"]
