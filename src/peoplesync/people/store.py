"""The PeopleStore protocol: what the rest of peoplesync may ask of the People store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from peoplesync.people.attribute import AttributeDefinition
from peoplesync.people.change_waiter import ChangeWaiter
from peoplesync.people.model import (
    Change,
    Company,
    CompanyInput,
    EntityType,
    ExternalLink,
    Person,
    PersonInput,
    TimelineEvent,
    UpsertResult,
)
from peoplesync.people.person_filter import SegmentRule
from peoplesync.people.planner import Prepared

# More writes for a batch's own transaction (a sync's error entries), given what it did.
BatchWrite = Callable[[AsyncConnection, UpsertResult], Awaitable[None]]


class PeopleStore(Protocol):
    """Batch-first access to persons, companies, attributes, links, timeline and changes."""

    async def define_attribute(self, definition: AttributeDefinition, *, origin: str) -> None:
        """Create or change a custom attribute definition."""

    async def attributes(self) -> dict[str, AttributeDefinition]:
        """Every custom attribute definition by name."""

    async def count_lacking(self, name: str) -> int:
        """How many persons have no value for the custom attribute ``name``."""

    async def upsert_persons(
        self, inputs: Iterable[PersonInput], *, origin: str, reject_invalid: bool = False
    ) -> UpsertResult:
        """Create or update many persons; invalid records raise, or are returned when
        ``reject_invalid`` is set while the valid ones are written."""

    async def validate_inputs(self, inputs: Sequence[PersonInput]) -> list[Prepared]:
        """Validate inputs ahead of ``apply_batch`` (no database writes; the result can be
        passed to ``apply_batch`` in place of the inputs, in any mix)."""

    async def apply_batch(
        self,
        inputs: Sequence[PersonInput | Prepared],
        *,
        origin: str,
        links: Callable[[list[str | None]], Sequence[ExternalLink]],
        state: tuple[str, dict[str, Any]] | None = None,
        dry_run: bool = False,
        also: BatchWrite | None = None,
    ) -> UpsertResult:
        """Upsert one batch and save its links, a sync-state value and what ``also`` writes
        in one transaction (``dry_run``: plan only)."""

    async def apply_removals(
        self,
        *,
        origin: str,
        unlink: Sequence[tuple[str, str, str]] = (),
        delete: Sequence[str] = (),
        merge: Sequence[tuple[str, str]] = (),
        link: Sequence[ExternalLink] = (),
        state: tuple[str, dict[str, Any]] | None = None,
        settled: tuple[str, Mapping[str, Collection[str]]] | None = None,
    ) -> None:
        """Forget links, delete persons, merge persons (absorbed, survivor), store a
        sync-state value and forget the settled fields of saved update attempts (system,
        record id -> fields), in one transaction."""

    async def get_state(self, key: str) -> dict[str, Any] | None:
        """A sync-state value (a cursor...) or None."""

    async def set_state(self, key: str, value: dict[str, Any]) -> None:
        """Store a sync-state value."""

    async def save_create_attempts(
        self, system: str, sobject: str, sent: Mapping[str, Mapping[str, Any]], at: datetime
    ) -> None:
        """Save the values a push is about to send to create records (person id -> values)."""

    async def create_attempts(
        self, system: str, sobject: str, person_ids: Iterable[str] | None
    ) -> dict[str, dict[str, Any]]:
        """The values sent by the saved create attempts of these persons (person id ->
        values); of every person when ``person_ids`` is None."""

    async def has_create_attempts(self, system: str, sobject: str | None = None) -> bool:
        """Whether any create attempt (of ``sobject``) is saved for ``system``."""

    async def forget_create_attempts(self, system: str, person_ids: Sequence[str]) -> None:
        """Drop the create attempts of these persons."""

    async def save_sent_updates(
        self, system: str, sobject: str, sent: Mapping[str, Mapping[str, Any]], at: datetime
    ) -> None:
        """Save the values a push is about to send to update records (record id -> values),
        merged over what an earlier attempt on the same record left."""

    async def sent_updates(
        self, system: str, sobject: str, record_ids: Iterable[str]
    ) -> dict[str, dict[str, Any]]:
        """The values saved update attempts sent to these records (record id -> values)."""

    async def has_sent_updates(self, system: str, sobject: str | None = None) -> bool:
        """Whether any update attempt (of ``sobject``) is saved for ``system``."""

    async def forget_sent_updates(self, system: str, done: Mapping[str, Collection[str]]) -> None:
        """Drop the fields of saved update attempts whose outcome is known (record id ->
        fields)."""

    async def get_persons(self, ids: Sequence[str]) -> dict[str, Person]:
        """Persons by id (missing ids are left out)."""

    async def find_by_emails(self, emails: Iterable[str]) -> dict[str, str]:
        """Person ids by email key (lower-cased address) for the addresses that are known."""

    async def delete_persons(self, ids: Sequence[str], *, origin: str) -> list[str]:
        """Delete persons with their emails, phones, links and timeline; returns deleted ids."""

    async def count_persons(self) -> int:
        """How many persons the store holds."""

    async def segment_rules(self, names: Iterable[str]) -> dict[str, SegmentRule]:
        """Membership rules of the named saved segments (ConfigurationError names a missing
        one or one that no longer fits the attributes)."""

    async def upsert_companies(
        self, inputs: Iterable[CompanyInput], *, origin: str, reject_invalid: bool = False
    ) -> UpsertResult:
        """Create or update companies, matched by id, then by website domain."""

    async def apply_company_batch(
        self,
        inputs: list[CompanyInput],
        *,
        origin: str,
        links: Callable[[list[str | None]], Sequence[ExternalLink]],
        state: tuple[str, dict[str, Any]] | None = None,
        dry_run: bool = False,
        also: BatchWrite | None = None,
    ) -> UpsertResult:
        """Upsert companies and save their links, a sync-state value and what ``also``
        writes in one transaction (``dry_run``: plan only)."""

    async def count_companies(self) -> int:
        """How many companies the store holds."""

    async def delete_companies(self, ids: Sequence[str], *, origin: str) -> list[str]:
        """Delete companies with their links (their persons stay); returns deleted ids."""

    async def get_companies(self, ids: Sequence[str]) -> dict[str, Company]:
        """Companies by id."""

    async def find_companies_by_domains(self, domains: Iterable[str]) -> dict[str, str]:
        """Company ids by normalised website domain."""

    async def save_links(self, links: Sequence[ExternalLink]) -> None:
        """Create or replace links to external records (keyed by system, object, id)."""

    async def find_links(
        self, system: str, sobject: str, external_ids: Iterable[str]
    ) -> dict[str, ExternalLink]:
        """Links by external id."""

    async def links_page(
        self, system: str, sobject: str, *, after: str = "", limit: int = 10_000
    ) -> list[ExternalLink]:
        """The links to records of ``sobject``, in external id order from after ``after``."""

    async def links_of(
        self, entity_type: EntityType, entity_ids: Sequence[str]
    ) -> dict[str, list[ExternalLink]]:
        """Every link of the given persons or companies."""

    async def remove_links(self, system: str, sobject: str, external_ids: Sequence[str]) -> int:
        """Forget links; returns how many were removed."""

    async def add_events(self, events: Sequence[TimelineEvent]) -> list[str]:
        """Append timeline events; returns their ids."""

    async def timeline(self, person_id: str, *, limit: int = 100) -> list[TimelineEvent]:
        """A person's most recent events, newest first."""

    async def changes_since(self, seq: int, *, limit: int = 1000) -> list[Change]:
        """Change-log entries with a sequence number above ``seq``, oldest first."""

    async def last_change_seq(self) -> int:
        """The highest sequence number in the change log (0 when empty)."""

    async def change_waiter(self) -> ChangeWaiter:
        """A waiter woken when People changes commit (close it when done)."""

    async def changed_at(
        self, wanted: Mapping[str, Collection[str]]
    ) -> dict[str, dict[str, datetime]]:
        """When each wanted attribute of each person (person id -> attribute names) last
        changed, from the change log; attributes without a logged change are left out."""


__all__ = ["BatchWrite", "PeopleStore"]
