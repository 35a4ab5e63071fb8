"""Outbound steps: which persons flow into which Salesforce object, with what fields.

Also the view of the runner the outbound helpers (matching, writing, deleting) work with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from peoplesync.clock import Clock
from peoplesync.people.store import PeopleStore
from peoplesync.salesforce.api import SalesforceApi
from peoplesync.sync.mapping import FieldMapping
from peoplesync.sync.outbound.plan import OUTBOUND_MAPPINGS

EXTERNAL_ID_FIELD = "PeopleSync_Id__c"  # used for upserts when the org has it as an external id
STORE_CHUNK = 5_000  # ids per People store read (SQL parameter limits)


@dataclass(frozen=True)
class OutboundStep:
    """Persons flowing into one Salesforce object (Lead or Contact).

    ``create`` lets unlinked persons become new records (Person -> Lead); ``update`` lets
    changes reach linked records; ``delete`` deletes a deleted person's linked record (off
    by default: without it the person's links are only forgotten).
    """

    sobject: str
    lines: tuple[FieldMapping, ...]
    create: bool = True
    update: bool = True
    delete: bool = False
    name: str = ""
    # The field that holds the person id, used for upserts when the org marks it externalId.
    external_id: str | None = EXTERNAL_ID_FIELD
    segment: str | None = None  # only persons of this People segment are pushed

    @property
    def label(self) -> str:
        """The step's name in the status (its profile name, else ``Person to <object>``, or
        ``Company to Account``)."""
        if self.name:
            return self.name
        return "Company to Account" if self.sobject == "Account" else f"Person to {self.sobject}"

    def fields(self) -> list[str]:
        """The Salesforce fields the step writes (relationship paths are read-only)."""
        return list(
            dict.fromkeys(
                line.salesforce_field
                for line in self.lines
                if "." not in line.salesforce_field
                and (
                    line.applies(inbound=False, creating=True)
                    or line.applies(inbound=False, creating=False)
                )
            )
        )


def default_steps() -> tuple[OutboundStep, ...]:
    """Person -> Lead (new persons become Leads) and Person -> Contact (linked contacts)."""
    return (
        OutboundStep("Lead", OUTBOUND_MAPPINGS["Lead"]),
        OutboundStep("Contact", OUTBOUND_MAPPINGS["Contact"], create=False),
    )


class PushContext(Protocol):
    """What the outbound helpers read from the runner that drives them."""

    @property
    def client(self) -> SalesforceApi: ...
    @property
    def store(self) -> PeopleStore: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def system(self) -> str: ...
    @property
    def steps(self) -> Mapping[str, OutboundStep]: ...
    @property
    def phone_region(self) -> str | None: ...
    @property
    def dry_run(self) -> bool: ...


__all__ = ["EXTERNAL_ID_FIELD", "STORE_CHUNK", "OutboundStep", "PushContext", "default_steps"]
