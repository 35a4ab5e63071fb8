"""Re-push after an outbound mapping change: the linked persons' newly mapped values reach
Salesforce on the next push, as an inbound mapping change makes the next sync re-read.

The push follows People's change log, so a line added to an outbound step would only reach a
record with the person's next change. Saving a profile whose outbound step's mapping or
filter changed therefore marks the step (``marked``, kept under ``repush_key``) with a
fingerprint of its new mapping. The next push pass first goes through every person (for
Company -> Account, every company) linked to the step's object, page by page along the
links (``links_page``), and pushes them as if they had changed: each linked record gets the
fields whose People value differs from the link's last synced state, nothing else, written
by volume (sObject Collections or one Bulk API job a page). Then the mark is cleared. A pass
started with another mapping (a ``push run --follow`` not restarted since) leaves the mark
for the process that has it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from peoplesync.people.store import PeopleStore
from peoplesync.sync.mapping import FieldMapping


def repush_key(system: str) -> str:
    """Where the steps waiting for a re-push are kept (``system`` is ``salesforce:<name>``)."""
    return f"{system}:repush"


def fingerprint(lines: Sequence[FieldMapping]) -> str:
    """A short digest of what a step writes: its mapping lines."""
    plain = [
        [
            line.salesforce_field,
            line.attribute,
            line.direction.value,
            line.mode.value,
            line.on_create,
            line.on_update,
        ]
        for line in lines
    ]
    text = json.dumps(plain, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def marked(stored: Mapping[str, Any] | None, step: str, print_: str, why: str) -> dict[str, Any]:
    """The re-push state with ``step`` waiting under its new mapping's fingerprint."""
    steps = dict((stored or {}).get("steps", {}))
    steps[step] = {"fingerprint": print_, "why": why}
    return {"steps": steps}


def waiting(stored: Mapping[str, Any] | None, steps: Mapping[str, str]) -> list[str]:
    """The steps (by name, with their current fingerprints in ``steps``) to re-push now:
    marked under the same mapping as this pass has."""
    marks = dict((stored or {}).get("steps", {}))
    return [
        name
        for name, print_ in steps.items()
        if isinstance(marks.get(name), Mapping) and marks[name].get("fingerprint") == print_
    ]


def cleared(stored: Mapping[str, Any] | None, step: str, print_: str) -> dict[str, Any]:
    """The re-push state without ``step``'s mark, unless it was marked again meanwhile."""
    steps = dict((stored or {}).get("steps", {}))
    mark = steps.get(step)
    if isinstance(mark, Mapping) and mark.get("fingerprint") == print_:
        steps.pop(step)
    return {"steps": steps}


async def repush_linked(
    store: PeopleStore,
    system: str,
    sobject: str,
    push: Callable[[list[str]], Awaitable[None]],
    entity_type: str = "person",
    *,
    page_size: int,
) -> None:
    """Call ``push`` with the ids of the persons (or companies) linked to ``sobject``, a page
    at a time."""
    after = ""
    while True:
        page = await store.links_page(system, sobject, after=after, limit=page_size)
        ids = list(dict.fromkeys(x.entity_id for x in page if x.entity_type == entity_type))
        if ids:
            await push(ids)
        if len(page) < page_size:
            return
        after = page[-1].external_id


__all__ = ["cleared", "fingerprint", "marked", "repush_key", "repush_linked", "waiting"]
