"""What the People store holds and what callers give it (plain, typed values)."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from peoplesync.errors import RecordError

EntityType = Literal["person", "company", "attribute"]
Operation = Literal["create", "update", "delete"]


def new_id() -> str:
    """A new 32-hex-character id, time-ordered (UUIDv7 layout) so inserts stay index-friendly."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (rand & ((1 << 76) - 1))
    value = (value & ~(0xC << 60)) | (0x8 << 60)  # RFC 4122 variant bits
    return f"{value:032x}"


@dataclass(frozen=True, slots=True)
class PersonInput:
    """A person to create or update.

    ``values`` holds standard attributes (``first_name``...), ``company_id`` and custom
    attributes by name;
    a key that is absent leaves the attribute as it is, ``None`` clears it. ``emails`` and
    ``phones``, when given, replace the person's lists; the first one is primary. ``key``
    names the record in errors (a row number, a Salesforce id...). ``version`` (with ``id``)
    is the person's stored version the values were decided on: when the person has changed
    since, the batch is refused (``StalePersonsError``) and nothing of it is written.
    """

    values: Mapping[str, object] = field(default_factory=dict)
    emails: Sequence[str] | None = None
    phones: Sequence[str] | None = None
    id: str | None = None
    key: str | None = None
    version: int | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """A person as stored."""

    id: str
    version: int
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    standard: Mapping[str, Any]
    attributes: Mapping[str, Any]
    company_id: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def email(self) -> str | None:
        """The primary email address."""
        return self.emails[0] if self.emails else None

    @property
    def phone(self) -> str | None:
        """The primary phone number."""
        return self.phones[0] if self.phones else None

    def get(self, name: str) -> Any:
        """A standard or custom attribute's value by name."""
        if name in self.standard:
            return self.standard[name]
        return self.attributes.get(name)


@dataclass(frozen=True, slots=True)
class CompanyInput:
    """A company to create or update; matched by id, then by website domain."""

    values: Mapping[str, object] = field(default_factory=dict)
    id: str | None = None
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Company:
    """A company (a Salesforce Account on the other side)."""

    id: str
    version: int
    name: str | None
    website_domain: str | None
    industry: str | None
    employees: int | None
    revenue: str | None
    country: str | None
    owner: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ExternalLink:
    """A link from a person or company to a record in another system."""

    entity_type: EntityType
    entity_id: str
    system: str
    object: str
    external_id: str
    state: Mapping[str, Any] = field(default_factory=dict)
    synced_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """Something a person did or that happened to them."""

    person_id: str
    kind: str
    occurred_at: datetime
    source: str = "peoplesync"
    data: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of the change log: what changed, when, and who caused it."""

    seq: int
    at: datetime
    entity_type: EntityType
    entity_id: str
    operation: Operation
    changes: Mapping[str, Any]
    origin: str
    version: int


@dataclass(slots=True)
class UpsertResult:
    """What a batch upsert did, record by record."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[RecordError] = field(default_factory=list)
    ids: list[str | None] = field(default_factory=list)  # per input, in order; None if rejected

    def merge(self, other: UpsertResult) -> None:
        """Add another batch's outcome to this one."""
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected
        self.ids += other.ids
