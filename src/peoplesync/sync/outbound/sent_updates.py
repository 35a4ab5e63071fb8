"""Update attempts: the values a push sends to linked records, saved before they are sent, so
a push that dies after Salesforce took them does not leave them looking like Salesforce edits.

The create attempts' twin (``attempts``): before an update batch is sent, the values of each
record are saved in the People store (one row a record, ``push_sent_updates``: object, time
and values, merged over what an earlier attempt left). The fields whose outcome is known
(their link and push mark committed, ``push_mark``, or refused by Salesforce) are forgotten
in the transaction that commits the page's links (``apply_removals(settled=...)``), so a
push dying between its commit and a later forget leaves nothing behind. A field still saved
is one an update sent without committing: the inbound sync and the next push take a record
holding that value as synced (``push_mark.with_sent``), where it would otherwise be a
Salesforce change newer than People's edit of the field made meanwhile.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from peoplesync.people.store import PeopleStore
from peoplesync.sync.outbound.step import PushContext


async def load_sent(
    store: PeopleStore, system: str, sobject: str, record_ids: Collection[str]
) -> dict[str, dict[str, Any]]:
    """Of ``record_ids``, those with values an update of ``sobject`` sent without committing:
    record id -> field -> value (one indexed read when no attempt of ``sobject`` is saved)."""
    if not record_ids or not await store.has_sent_updates(system, sobject):
        return {}
    return await store.sent_updates(system, sobject, record_ids)


class SentUpdates:
    """The saved update attempts of one integration's push."""

    def __init__(self, ctx: PushContext) -> None:
        self.ctx = ctx

    async def sent(self, sobject: str, record_ids: Collection[str]) -> dict[str, dict[str, Any]]:
        """The values sent to ``record_ids`` without committing (see ``load_sent``)."""
        return await load_sent(self.ctx.store, self.ctx.system, sobject, record_ids)

    async def record(self, sobject: str, rows: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        """Save the values about to be sent (record id, values), before they are sent; fields
        an earlier attempt on the same record sent and left unsettled stay saved."""
        if not rows or self.ctx.dry_run:
            return
        sent: dict[str, dict[str, Any]] = {}
        for record_id, values in rows:
            sent[record_id] = {**sent.get(record_id, {}), **values}
        await self.ctx.store.save_sent_updates(self.ctx.system, sobject, sent, self.ctx.clock.now())


__all__ = ["SentUpdates", "load_sent"]
